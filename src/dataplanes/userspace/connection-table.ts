import type { Backend } from './backend.js';

/** IPVS's timeouts (`ipvsadm --set tcp tcpfin udp`), in milliseconds; the kernel's defaults. */
export interface ConnectionTimeouts {
  /** An established TCP connection idle this long is closed (IPVS: 900 s). */
  readonly tcpTimeout: number;
  /** A half-closed TCP connection is closed after this long, and a closed one counts as inactive
   * for this long, as IPVS keeps its entry in FIN_WAIT/TIME_WAIT (IPVS: 120 s). */
  readonly tcpFinTimeout: number;
  /** A UDP flow idle this long is closed (IPVS: 300 s). */
  readonly udpTimeout: number;
}

export const defaultConnectionTimeouts: ConnectionTimeouts = {
  tcpTimeout: 900_000,
  tcpFinTimeout: 120_000,
  udpTimeout: 300_000,
};

/** The state of one proxied connection as IPVS counts it. */
export type ConnectionState = 'connecting' | 'established' | 'closing' | 'closed';

/** Closed connections whose inactive count ends at `until`, per backend (one bucket per tick). */
interface LingerBucket {
  readonly until: number;
  readonly counts: Map<Backend, number>;
}

/** Lingering entries are grouped by this many ms, so 20,000 closes a second cost a few buckets. */
const LINGER_TICK_MS = 250;

/**
 * Counts connections per backend in IPVS's sense: a connection is inactive while it is being
 * set up, active once established, inactive again from the first FIN, and stays counted as
 * inactive for `tcpFinTimeout` after it closed (IPVS's TIME_WAIT entry). UDP flows are always
 * inactive, as in IPVS. Stateful schedulers read these counters through `Destination`.
 */
export class ConnectionTable {
  private readonly lingering: LingerBucket[] = [];
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly timeouts: ConnectionTimeouts,
    private readonly now: () => number = Date.now,
  ) {}

  /** A new TCP connection to `backend`, still connecting; returns a handle that moves it on. */
  openTcp(backend: Backend): TcpConnectionEntry {
    backend.connections++;
    backend.inactiveConns++;
    return new TcpConnectionEntry(backend, this);
  }

  openUdpFlow(backend: Backend): void {
    backend.connections++;
    backend.inactiveConns++;
  }

  closeUdpFlow(backend: Backend): void {
    backend.inactiveConns--;
  }

  /** Keeps a closed connection counted as inactive until tcpFinTimeout has passed. */
  linger(backend: Backend): void {
    if (this.timeouts.tcpFinTimeout <= 0) {
      backend.inactiveConns--;
      return;
    }
    const until = Math.ceil((this.now() + this.timeouts.tcpFinTimeout) / LINGER_TICK_MS) * LINGER_TICK_MS;
    let bucket = this.lingering.at(-1);
    if (bucket?.until !== until) {
      bucket = { until, counts: new Map() };
      this.lingering.push(bucket);
    }
    bucket.counts.set(backend, (bucket.counts.get(backend) ?? 0) + 1);
    this.sweepTimer ??= setInterval(() => this.sweep(), LINGER_TICK_MS).unref();
  }

  /** Ends the lingering entries whose time is up (buckets are in time order). */
  sweep(): void {
    const now = this.now();
    let expired = 0;
    for (const bucket of this.lingering) {
      if (bucket.until > now) break;
      for (const [backend, count] of bucket.counts) backend.inactiveConns -= count;
      expired++;
    }
    this.lingering.splice(0, expired);
    if (this.lingering.length === 0 && this.sweepTimer) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = undefined;
    }
  }

  /** Stops the sweep timer (the counters no longer matter once the data plane is gone). */
  stop(): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
  }
}

/** One TCP connection's entry; each step is idempotent and only moves forward. */
export class TcpConnectionEntry {
  state: ConnectionState = 'connecting';

  constructor(
    readonly backend: Backend,
    private readonly table: ConnectionTable,
  ) {}

  established(): void {
    if (this.state !== 'connecting') return;
    this.state = 'established';
    this.backend.inactiveConns--;
    this.backend.activeConns++;
  }

  /** A FIN from either side: the connection is no longer active. */
  closing(): void {
    if (this.state !== 'established') return;
    this.state = 'closing';
    this.backend.activeConns--;
    this.backend.inactiveConns++;
  }

  closed(): void {
    if (this.state === 'closed') return;
    const wasConnecting = this.state === 'connecting';
    this.closing();
    this.state = 'closed';
    // A connect that never succeeded leaves no TIME_WAIT behind.
    if (wasConnecting) this.backend.inactiveConns--;
    else this.table.linger(this.backend);
  }
}
