/**
 * The destination-address cache of lblc and lblcr, with the kernel's garbage collection replayed
 * against an injectable clock. The kernel runs a timer every minute (CHECK_EXPIRE_INTERVAL):
 * every 30th run it drops every entry unused for the expiration time (sysctl
 * lblc_expiration / lblcr_expiration, 24 h by default); on the other runs, only when the table
 * holds more than 16 × 1024 entries, it drops entries idle for 6 minutes (ENTRY_TIMEOUT), at
 * most 4/3 of the excess and half the maximum. Here those runs happen on the next lookup after
 * their due time, each at its own due time, so the outcome is the timer's.
 */

export const DEFAULT_EXPIRATION_MS = 24 * 60 * 60 * 1000;
const CHECK_EXPIRE_INTERVAL_MS = 60 * 1000;
const ENTRY_TIMEOUT_MS = 6 * 60 * 1000;
const COUNT_FOR_FULL_EXPIRATION = 30;
const MAX_ENTRIES = 1024 * 16;

export interface CacheEntry<V> {
  value: V;
  /** When the entry was last looked up (ms). */
  lastUse: number;
}

export class LocalityCache<V> {
  private readonly entries = new Map<string, CacheEntry<V>>();
  private nextCheck: number;
  private counter = 1;

  constructor(
    private readonly now: () => number,
    private readonly expirationMs: number,
  ) {
    this.nextCheck = now() + CHECK_EXPIRE_INTERVAL_MS;
  }

  /** The entry for `key`, marked as used now; undefined if absent or collected. */
  lookup(key: string): CacheEntry<V> | undefined {
    const now = this.now();
    this.collect(now);
    const entry = this.entries.get(key);
    if (entry) entry.lastUse = now;
    return entry;
  }

  /** Stores a new entry for `key` (replacing any), used now. */
  store(key: string, value: V): CacheEntry<V> {
    const entry = { value, lastUse: this.now() };
    this.entries.set(key, entry);
    return entry;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Replays every timer run due by `now`. */
  private collect(now: number): void {
    while (now >= this.nextCheck) {
      this.timerRun(this.nextCheck);
      this.nextCheck += CHECK_EXPIRE_INTERVAL_MS;
    }
  }

  /** ip_vs_lblc_check_expire at time `at`. */
  private timerRun(at: number): void {
    if (this.counter % COUNT_FOR_FULL_EXPIRATION === 0) {
      this.dropIdle(at, this.expirationMs, Number.POSITIVE_INFINITY);
      this.counter = 1;
      return;
    }
    if (this.entries.size <= MAX_ENTRIES) {
      this.counter++;
      return;
    }
    const goal = Math.min(Math.floor(((this.entries.size - MAX_ENTRIES) * 4) / 3), MAX_ENTRIES / 2);
    this.dropIdle(at, ENTRY_TIMEOUT_MS, goal);
  }

  private dropIdle(at: number, idleMs: number, goal: number): void {
    let dropped = 0;
    for (const [key, entry] of this.entries) {
      if (dropped >= goal) return;
      if (at < entry.lastUse + idleMs) continue;
      this.entries.delete(key);
      dropped++;
    }
  }
}
