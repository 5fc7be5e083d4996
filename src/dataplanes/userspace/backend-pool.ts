import type { Endpoint } from '../../model/endpoint.js';
import { endpointAddress } from '../../model/endpoint.js';
import type { SessionAffinity } from '../../model/service.js';
import type { ConnectionInfo, Scheduler } from '../../schedulers/scheduler.js';
import { AffinityTable } from './affinity-table.js';
import { type Backend, endpointWeight, newBackend } from './backend.js';

export interface BackendPoolOptions {
  readonly scheduler: Scheduler<Backend>;
  /** How long a backend whose connect failed takes no new connections. */
  readonly holdBackMs: number;
  readonly now?: () => number;
}

/**
 * The backends of one service port for one kind of traffic (cluster or external), IPVS's virtual
 * service: the scheduler, session affinity and the hold-back of failing backends. Backends are
 * kept across syncs so their counters survive; a removed one is forgotten by the pool while its
 * open connections, which hold it, run on.
 */
export class BackendPool {
  private backends = new Map<string, Backend>();
  private affinity: AffinityTable | undefined;
  private readonly now: () => number;

  constructor(private readonly options: BackendPoolOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Takes the endpoints of a new sync: new connections go only to these. */
  update(endpoints: readonly Endpoint[], sessionAffinity: SessionAffinity): void {
    const next = new Map<string, Backend>();
    for (const endpoint of endpoints) {
      const id = endpointAddress(endpoint);
      const kept = this.backends.get(id);
      if (kept) kept.weight = endpointWeight(endpoint);
      next.set(id, kept ?? newBackend(endpoint));
    }
    for (const [id, backend] of this.backends) if (!next.has(id)) backend.current = false;
    this.backends = next;
    this.options.scheduler.update([...next.values()]);
    this.updateAffinity(sessionAffinity);
  }

  current(): readonly Backend[] {
    return [...this.backends.values()];
  }

  /**
   * The backend for a new connection: the client's affinity entry if it may be used, else the
   * scheduler's pick; `tried` are backends that already failed this connection. When the
   * scheduler finds nobody because every backend is held back, the one free soonest is tried
   * anyway: a client should succeed whenever any backend works.
   */
  pick(connection: ConnectionInfo, tried: ReadonlySet<Backend>): Backend | undefined {
    const sticky = this.affinity?.lookup(connection.clientIP);
    if (sticky && !tried.has(sticky)) return sticky;
    const picked = this.options.scheduler.pick(connection);
    const backend = picked && !tried.has(picked) ? picked : this.fallback(tried);
    if (backend) this.affinity?.remember(connection.clientIP, backend);
    return backend;
  }

  /** A connect to `backend` was refused or timed out: count it and hold the backend back. */
  connectFailed(backend: Backend, clientIP: string): void {
    backend.failedConnects++;
    this.affinity?.forget(clientIP);
    if (!backend.current) return;
    const until = this.now() + this.options.holdBackMs;
    backend.heldBackUntil = until;
    backend.overloaded = true;
    setTimeout(() => {
      if (backend.heldBackUntil === until) backend.overloaded = false;
    }, this.options.holdBackMs).unref();
  }

  private fallback(tried: ReadonlySet<Backend>): Backend | undefined {
    let soonest: Backend | undefined;
    for (const backend of this.backends.values()) {
      if (backend.weight <= 0 || tried.has(backend)) continue;
      if (!soonest || backend.heldBackUntil < soonest.heldBackUntil) soonest = backend;
    }
    return soonest;
  }

  private updateAffinity(sessionAffinity: SessionAffinity): void {
    if (sessionAffinity.type !== 'ClientIP') {
      this.affinity = undefined;
      return;
    }
    const timeoutMs = sessionAffinity.timeoutSeconds * 1000;
    if (this.affinity) this.affinity.setTimeout(timeoutMs);
    else this.affinity = new AffinityTable(timeoutMs, this.now);
    this.affinity.dropUnusable();
  }
}
