import type { Backend } from './backend.js';

interface AffinityEntry {
  backend: Backend;
  expiresAt: number;
}

/**
 * Session affinity ClientIP, as IPVS persistence does it: a client IP keeps going to the backend
 * it was first sent to while its entry lives (`timeoutSeconds`, renewed by each new connection).
 * An entry pointing at a backend that is gone, not ready or held back after a failure is dropped,
 * so the client is scheduled afresh.
 */
export class AffinityTable {
  private readonly entries = new Map<string, AffinityEntry>();
  private lastSweep = 0;

  constructor(
    private timeoutMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  setTimeout(timeoutMs: number): void {
    this.timeoutMs = timeoutMs;
  }

  /** The backend this client is bound to, if its entry lives and the backend may take it. */
  lookup(clientIP: string): Backend | undefined {
    const now = this.now();
    this.sweepNow(now);
    const entry = this.entries.get(clientIP);
    if (!entry) return undefined;
    const { backend } = entry;
    if (entry.expiresAt <= now || !backend.current || backend.weight <= 0 || backend.overloaded) {
      this.entries.delete(clientIP);
      return undefined;
    }
    entry.expiresAt = now + this.timeoutMs;
    return backend;
  }

  remember(clientIP: string, backend: Backend): void {
    this.entries.set(clientIP, { backend, expiresAt: this.now() + this.timeoutMs });
  }

  forget(clientIP: string): void {
    this.entries.delete(clientIP);
  }

  /** Drops the entries of backends a sync removed or set to weight 0. */
  dropUnusable(): void {
    for (const [clientIP, { backend }] of this.entries) {
      if (!backend.current || backend.weight <= 0) this.entries.delete(clientIP);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  /** Expired entries go at most once a second, so lookups stay O(1) on average. */
  private sweepNow(now: number): void {
    if (now - this.lastSweep < 1000) return;
    this.lastSweep = now;
    for (const [clientIP, entry] of this.entries) {
      if (entry.expiresAt <= now) this.entries.delete(clientIP);
    }
  }
}
