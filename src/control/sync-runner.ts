/**
 * Calls a sync function no more often than `minInterval`, at least every `maxInterval`, and
 * `retryInterval` after a failure — kube-proxy's BoundedFrequencyRunner, with `minSyncPeriod` and
 * `syncPeriod` from the configuration. Requests that arrive while a sync waits or runs are
 * coalesced into one later sync; two syncs never overlap.
 */
import type { Clock } from './clock.js';

export interface SyncRunnerOptions {
  /** Resolves true when the sync succeeded; false or a rejection means "retry later". */
  readonly sync: () => Promise<boolean>;
  readonly minIntervalMs: number;
  readonly maxIntervalMs: number;
  readonly retryIntervalMs: number;
  readonly clock: Clock;
  readonly onError?: (error: unknown) => void;
}

export class SyncRunner {
  private lastRunAt: number | undefined;
  private startedAt = 0;
  private requested = false;
  private retryAt: number | undefined;
  private running = false;
  private stopped = true;
  private timer: unknown;
  private timerDue = Number.NaN;
  private idle: Promise<void> = Promise.resolve();

  constructor(private readonly options: SyncRunnerOptions) {}

  /** Starts the periodic syncs; the first comes `maxInterval` from now unless `run()` asks sooner. */
  start(): void {
    this.stopped = false;
    this.startedAt = this.options.clock.now();
    this.reschedule();
  }

  /** Asks for a sync as soon as `minInterval` allows; many requests make one sync. */
  run(): void {
    this.requested = true;
    this.reschedule();
  }

  /** Stops scheduling and waits for a sync in progress to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.clearTimer();
    await this.idle;
  }

  private nextDue(now: number): number {
    const earliest = this.lastRunAt === undefined ? now : this.lastRunAt + this.options.minIntervalMs;
    let due = (this.lastRunAt ?? this.startedAt) + this.options.maxIntervalMs;
    if (this.requested) due = Math.min(due, Math.max(earliest, now));
    if (this.retryAt !== undefined) due = Math.min(due, Math.max(this.retryAt, earliest));
    return due;
  }

  private reschedule(): void {
    if (this.stopped || this.running) return;
    const now = this.options.clock.now();
    const due = this.nextDue(now);
    if (this.timer !== undefined && this.timerDue === due) return;
    this.clearTimer();
    this.timerDue = due;
    this.timer = this.options.clock.setTimeout(() => this.fire(), Math.max(0, due - now));
  }

  private clearTimer(): void {
    if (this.timer !== undefined) this.options.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private fire(): void {
    this.timer = undefined;
    if (this.stopped || this.running) return;
    this.running = true;
    this.requested = false;
    this.retryAt = undefined;
    this.lastRunAt = this.options.clock.now();
    this.idle = this.execute();
  }

  private async execute(): Promise<void> {
    let ok = false;
    try {
      ok = await this.options.sync();
    } catch (error) {
      this.options.onError?.(error);
    }
    if (!ok) this.retryAt = this.options.clock.now() + this.options.retryIntervalMs;
    this.running = false;
    this.reschedule();
  }
}
