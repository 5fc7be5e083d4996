import type { LabBackend, LabBackendFactory, LabCluster, LabPod } from './backends/lab-backend.js';
import type { LabMode } from './lab-mode.js';
import type { LabModeResult, LabScenarioResult } from './lab-result.js';
import type { LoadRun } from './load/sample.js';
import { summarizeLoad } from './load/summarize.js';
import { OpenConnectionSampler } from './open-connection-sampler.js';
import { podWeight, type Scenario, type ScenarioEvent } from './scenarios.js';
import { percentile } from './stats.js';

export interface ScenarioRunOptions {
  readonly scenario: Scenario;
  readonly modes: readonly LabMode[];
  readonly backend: LabBackendFactory;
  readonly pods: number;
  readonly requests: number;
  readonly concurrency?: number;
}

/** Runs one scenario through every mode, each on a fresh cluster and a fresh backend. */
export async function runScenario(options: ScenarioRunOptions): Promise<LabScenarioResult> {
  const { scenario } = options;
  const concurrency = options.concurrency ?? scenario.defaultConcurrency(options.pods);
  const modes: LabModeResult[] = [];
  for (const mode of options.modes) {
    const backend = options.backend(mode);
    const cluster = await backend.startCluster(options.pods);
    try {
      modes.push(await runOneMode({ ...options, concurrency, mode, cluster, backend }));
    } finally {
      await backend.stop();
      await cluster.stop();
    }
  }
  return {
    scenario: scenario.name,
    shows: scenario.shows,
    requests: options.requests,
    concurrency,
    keepAlive: scenario.keepAlive,
    clients: scenario.clients,
    holdsConnections: scenario.holdMs !== undefined,
    modes,
  };
}

interface OneModeOptions extends Omit<ScenarioRunOptions, 'backend'> {
  readonly mode: LabMode;
  readonly cluster: LabCluster;
  readonly backend: LabBackend;
  readonly concurrency: number;
}

async function runOneMode(options: OneModeOptions): Promise<LabModeResult> {
  const { scenario, cluster, backend, mode } = options;
  const frontend = await backend.start(mode, cluster.state());
  const weightOf = (pod: LabPod) => podWeight(scenario, cluster.allPods().indexOf(pod));
  if (scenario.weights) {
    backend.setWeights(new Map(cluster.allPods().map((pod) => [pod.endpoint, weightOf(pod)])));
  }
  const localAddresses = await backend.clientAddresses(scenario.clients);
  const dead = new Set<string>();
  const sampler = new OpenConnectionSampler(
    () => cluster.allPods(),
    (pod) => !dead.has(pod.name),
  );
  const events = new EventQueue(scenario.events, options.requests, (event) =>
    applyEvent(event, { cluster, backend, dead }),
  );
  const { holdMs } = scenario;
  let run: LoadRun;
  try {
    run = await backend.runLoad({
      url: new URL(`http://${frontend.host}:${frontend.port}/`),
      requests: options.requests,
      concurrency: options.concurrency,
      keepAlive: scenario.keepAlive,
      timeoutMs: 10_000,
      localAddresses,
      pathFor: holdMs ? (i) => `/?hold=${holdMs(i)}` : undefined,
      onProgress: (done) => events.reached(done),
    });
  } finally {
    sampler.stop();
    await events.settled();
  }
  await cluster.refreshCounts();
  const pods = cluster.allPods();
  const counters = await backend.connectionCounters();
  const weights = scenario.weights ? new Map(pods.map((pod) => [pod.name, weightOf(pod)])) : undefined;
  const summary = summarizeLoad(run, { knownPods: pods.map((pod) => pod.name), weights });
  const sorted = run.samples.filter((s) => !s.failure).map((s) => s.totalMs);
  sorted.sort((a, b) => a - b);
  return {
    mode: mode.label,
    scheduler: mode.scheduler,
    dataplane: backend.name,
    pods: pods.map((pod) => ({
      pod: pod.name,
      requests: summary.distribution.find((share) => share.pod === pod.name)?.connections ?? 0,
      podCounted: pod.requests(),
      proxyConnections: counters.get(pod.endpoint) ?? 0,
      weight: weightOf(pod),
      peakOpenConnections: sampler.peak(pod.name),
      meanOpenConnections: sampler.average(pod.name),
    })),
    completeRequests: summary.completeRequests,
    failures: summary.realFailures,
    requestsPerSecond: summary.requestsPerSecond,
    latencyMs: summary.latencyMs,
    fairness: summary.fairness,
    openConnectionsMaxOverMean: sampler.maxOverMean(),
    latencyCdf: latencyCdf(sorted),
    arrivals: arrivals(
      run,
      pods.map((pod) => pod.name),
    ),
    timeline: sampler.timeline(),
  };
}

interface EventTarget {
  readonly cluster: LabCluster;
  readonly backend: LabBackend;
  readonly dead: Set<string>;
}

async function applyEvent(event: ScenarioEvent, { cluster, backend, dead }: EventTarget): Promise<void> {
  const pod = cluster.allPods()[event.podIndex ?? 0];
  if (event.action === 'add-pod') {
    await cluster.addPod();
    await backend.update(cluster.state());
  } else if (event.action === 'kill-pod' && pod) {
    dead.add(pod.name);
    await cluster.killPod(pod.name);
  } else if (event.action === 'remove-endpoint' && pod) {
    cluster.removeEndpoint(pod.name);
    await backend.update(cluster.state());
  }
}

/**
 * Fires scenario events in order, each once the run has completed its share of requests. An event
 * waits for the one before it to take effect, and then for its distance from that one: "the
 * endpoint removed a sixth of the run after the pod was killed" holds even when the kill itself
 * took longer than a sixth of the run (a fast run on a slow machine).
 */
class EventQueue {
  private next = 0;
  private done = 0;
  private applying: Promise<void> | undefined;
  private failure: unknown;
  /** Requests done when the last event had taken effect, and that event's place in the run. */
  private lastEffect = { done: 0, atFraction: 0 };

  constructor(
    private readonly events: readonly ScenarioEvent[],
    private readonly requests: number,
    private readonly apply: (event: ScenarioEvent) => Promise<void>,
  ) {}

  reached(done: number): void {
    this.done = done;
    this.fireDue();
  }

  /** Resolves once the events that fired have taken effect; rejects with the first that failed. */
  async settled(): Promise<void> {
    while (this.applying) await this.applying;
    if (this.failure !== undefined) throw this.failure;
  }

  private fireDue(): void {
    const event = this.events[this.next];
    if (!event || this.applying || this.failure !== undefined) return;
    const since = (event.atFraction - this.lastEffect.atFraction) * this.requests;
    if (this.done < Math.max(event.atFraction * this.requests, this.lastEffect.done + since)) return;
    this.next++;
    this.applying = this.apply(event).then(
      () => {
        this.applying = undefined;
        this.lastEffect = { done: this.done, atFraction: event.atFraction };
        this.fireDue();
      },
      (error: unknown) => {
        this.applying = undefined;
        this.failure = error;
      },
    );
  }
}

const ARRIVAL_BINS = 30;

/** Requests started per pod in each of 30 equal time bins; failed ones apart. */
function arrivals(run: LoadRun, pods: readonly string[]): LabModeResult['arrivals'] {
  const binMs = Math.max(1, Math.ceil(run.durationMs / ARRIVAL_BINS));
  const perPod: Record<string, number[]> = Object.fromEntries(
    pods.map((pod) => [pod, new Array<number>(ARRIVAL_BINS).fill(0)]),
  );
  const failed = new Array<number>(ARRIVAL_BINS).fill(0);
  for (const sample of run.samples) {
    const bin = Math.min(ARRIVAL_BINS - 1, Math.floor(sample.startMs / binMs));
    const series = sample.failure ? failed : sample.pod !== undefined ? perPod[sample.pod] : undefined;
    if (series) series[bin] = (series[bin] ?? 0) + 1;
  }
  return { binMs, perPod, failed };
}

/** 100 points of the latency CDF, at evenly spaced fractions. */
function latencyCdf(sorted: readonly number[]): [number, number][] {
  if (sorted.length === 0) return [];
  return Array.from({ length: 101 }, (_, i) => [round3(percentile(sorted, i === 0 ? 0 : i)), i / 100]);
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
