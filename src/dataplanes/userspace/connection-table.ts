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

export interface ConnectionTableOptions {
  /** A connect to a backend not done after this long is given up (default 2 s; IPVS has none). */
  readonly connectTimeoutMs?: number;
  readonly now?: () => number;
}

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
 *
 * It also ends TCP connections whose time is up, as IPVS expires its entries: one still
 * connecting after `connectTimeoutMs`, an established one idle for `tcpTimeout`, a half-closed one
 * idle for `tcpFinTimeout`. One sweep every tick looks at every open connection, instead of a
 * timer per connection armed and cleared for each of those states: three timers per connection
 * cost 4–5% of the new connections a process takes (docs/BENCHMARKS.md). A connection therefore
 * ends up to one tick after its limit; the tick is an eighth of the shortest limit, at most 250 ms.
 */
export class ConnectionTable {
  readonly now: () => number;
  private readonly connectTimeoutMs: number;
  private readonly tickMs: number;
  private readonly open = new Set<TcpConnectionEntry>();
  private readonly lingering: LingerBucket[] = [];
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly timeouts: ConnectionTimeouts,
    options: ConnectionTableOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 2000;
    const limits = [timeouts.tcpTimeout, timeouts.tcpFinTimeout, this.connectTimeoutMs].filter(
      (ms) => ms > 0,
    );
    this.tickMs = Math.max(10, Math.min(LINGER_TICK_MS, Math.min(...limits) / 8));
  }

  /** A new TCP connection to `backend`, still connecting; returns a handle that moves it on. */
  openTcp(backend: Backend): TcpConnectionEntry {
    backend.connections++;
    backend.inactiveConns++;
    const entry = new TcpConnectionEntry(backend, this);
    this.open.add(entry);
    this.startSweeping();
    return entry;
  }

  openUdpFlow(backend: Backend): void {
    backend.connections++;
    backend.inactiveConns++;
  }

  closeUdpFlow(backend: Backend): void {
    backend.inactiveConns--;
  }

  /** How long a TCP connection in `state` may go without a byte moving (0: no limit). */
  private limitOf(state: ConnectionState): number {
    if (state === 'connecting') return this.connectTimeoutMs;
    if (state === 'established') return this.timeouts.tcpTimeout;
    if (state === 'closing') return this.timeouts.tcpFinTimeout;
    return 0;
  }

  /** A TCP connection closed: no longer swept, and counted as inactive until tcpFinTimeout has passed. */
  closed(entry: TcpConnectionEntry, lingers: boolean): void {
    this.open.delete(entry);
    if (lingers) this.linger(entry.backend);
  }

  private linger(backend: Backend): void {
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
    this.startSweeping();
  }

  private startSweeping(): void {
    this.sweepTimer ??= setInterval(() => this.sweep(), this.tickMs).unref();
  }

  /** Ends the open connections whose time is up, then the lingering entries whose time is up. */
  sweep(): void {
    const now = this.now();
    // An expiring connection closes at once and leaves the set; deleting while iterating is safe.
    for (const entry of this.open) {
      const limit = this.limitOf(entry.state);
      if (limit > 0 && now - entry.lastActivity >= limit) entry.expire();
    }
    let expired = 0;
    for (const bucket of this.lingering) {
      if (bucket.until > now) break;
      for (const [backend, count] of bucket.counts) backend.inactiveConns -= count;
      expired++;
    }
    this.lingering.splice(0, expired);
    if (this.open.size === 0 && this.lingering.length === 0 && this.sweepTimer) {
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
  /** When a byte last moved (at first, when the connect began). */
  lastActivity: number;
  /**
   * What ends the connection when its time is up: set by whoever holds it at the time (the
   * forwarder cancels a connect, the splice closes both sides). It must end in `closed()`.
   */
  onExpire: (() => void) | undefined;

  constructor(
    readonly backend: Backend,
    private readonly table: ConnectionTable,
  ) {
    this.lastActivity = table.now();
  }

  /** Bytes moved: the idle limit starts again (IPVS renews its entry with every packet). */
  touch(): void {
    this.lastActivity = this.table.now();
  }

  expire(): void {
    this.onExpire?.();
  }

  established(): void {
    if (this.state !== 'connecting') return;
    this.state = 'established';
    this.lastActivity = this.table.now();
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
    this.table.closed(this, !wasConnecting);
  }
}
