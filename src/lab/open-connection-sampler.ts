import { performance } from 'node:perf_hooks';
import type { LabPod } from './backends/lab-backend.js';

const INTERVAL_MS = 20;
/** Keeps reports small: a long run keeps every n-th sample so at most this many remain. */
const MAX_POINTS = 300;

/** Samples how many connections each pod has open, every 20 ms, while a run lasts. */
export class OpenConnectionSampler {
  private readonly started = performance.now();
  private readonly times: number[] = [];
  private readonly open = new Map<string, number[]>();
  /** Sums over the samples of the busiest live pod's count and of the live pods' mean count. */
  private maxSum = 0;
  private meanSum = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pods: () => readonly LabPod[],
    private readonly isLive: (pod: LabPod) => boolean,
  ) {
    this.timer = setInterval(() => this.sample(), INTERVAL_MS);
  }

  stop(): void {
    clearInterval(this.timer);
    this.sample();
  }

  timeline(): { tMs: number[]; open: Record<string, number[]> } {
    const step = Math.max(1, Math.ceil(this.times.length / MAX_POINTS));
    const keep = <T>(values: T[]) => values.filter((_, i) => i % step === 0);
    return {
      tMs: keep(this.times).map((t) => Math.round(t)),
      open: Object.fromEntries([...this.open].map(([pod, counts]) => [pod, keep(counts)])),
    };
  }

  peak(pod: string): number {
    return Math.max(0, ...(this.open.get(pod) ?? []));
  }

  average(pod: string): number {
    const counts = this.open.get(pod) ?? [];
    return counts.length > 0 ? counts.reduce((a, b) => a + b, 0) / counts.length : 0;
  }

  /**
   * The busiest pod's open connections over the mean, summed over the run before dividing, so the
   * nearly idle moments at the start and the end (two connections on three pods) weigh little.
   */
  maxOverMean(): number {
    return this.meanSum > 0 ? this.maxSum / this.meanSum : 1;
  }

  private sample(): void {
    const index = this.times.length;
    this.times.push(performance.now() - this.started);
    const live: number[] = [];
    for (const pod of this.pods()) {
      const series = this.open.get(pod.name) ?? new Array<number>(index).fill(0);
      const count = pod.openConnections();
      series.push(count);
      this.open.set(pod.name, series);
      if (this.isLive(pod)) live.push(count);
    }
    const total = live.reduce((a, b) => a + b, 0);
    if (total > 0) {
      this.maxSum += Math.max(...live);
      this.meanSum += total / live.length;
    }
  }
}
