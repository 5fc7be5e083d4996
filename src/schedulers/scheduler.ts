/**
 * The scheduler interface, modelled on the kernel's `struct ip_vs_scheduler`
 * (net/netfilter/ipvs/ip_vs_sched.c): a name, a hook for when the backend set or weights
 * change (`upd_service`), and a pick for each new connection (`schedule`).
 */

/**
 * A real server as IPVS sees it. The connection table owns the counters and updates them as
 * connections open and close; schedulers only read them.
 */
export interface Destination {
  /** `ip:port` of the endpoint. */
  readonly id: string;
  /** Relative weight; 0 means "no new connections" (a terminating endpoint draining). */
  weight: number;
  /** Established connections (IPVS activeconns). */
  activeConns: number;
  /** Connections in any other state, e.g. closing (IPVS inactconns). */
  inactiveConns: number;
  /** Set while the destination is over its connection threshold (IP_VS_DEST_F_OVERLOAD). */
  overloaded?: boolean;
  /**
   * IPVS's upper connection threshold (`ipvsadm -x`): at this many connections (active +
   * inactive) `overloaded` is set; 0 or unset means no limit. See `applyConnectionThresholds`.
   */
  upperThreshold?: number;
  /** IPVS's lower threshold (`ipvsadm -y`): below it `overloaded` clears; unset means ¾ of the upper. */
  lowerThreshold?: number;
}

/** What a scheduler may look at when a new connection arrives. */
export interface ConnectionInfo {
  readonly clientIP: string;
  readonly clientPort: number;
  /** The frontend address the client connected to. */
  readonly serviceIP: string;
  readonly servicePort: number;
}

export interface Scheduler<D extends Destination = Destination> {
  readonly name: string;
  /** The backend set or some weight changed; rebuild whatever tables the algorithm keeps. */
  update(destinations: readonly D[]): void;
  /** The destination for a new connection, or undefined when none may take it. */
  pick(connection: ConnectionInfo): D | undefined;
}

export interface SchedulerOptions {
  /** Uniform random numbers in [0, 1); injectable so tests are repeatable. */
  readonly random?: () => number;
  /** IPVS scheduler flags, e.g. `sh-fallback`, `sh-port`, `mh-port`. */
  readonly flags?: readonly string[];
  /** Milliseconds clock for lblc/lblcr cache expiry; injectable so tests need not wait. Default Date.now. */
  readonly now?: () => number;
  /** lblc/lblcr: forget a cache entry unused this long (sysctl lblc_expiration; default 24 h). */
  readonly expirationMs?: number;
  /**
   * The connection table reports every change of a destination's counters or overload flag
   * (connection-counters.ts), so the least-connection schedulers may index instead of scanning.
   * Weight changes come, as always, through `update`.
   */
  readonly countersReported?: boolean;
  /** mh: the Maglev table size, one of MAGLEV_TABLE_SIZES (default 4093). */
  readonly maglevTableSize?: number;
}

export interface SchedulerDescriptor {
  readonly name: string;
  /** One line for `--help` and error messages. */
  readonly summary: string;
  /** The scheduler flags it accepts (IP_VS_SVC_F_SCHED1/2 under their ipvsadm names); none if unset. */
  readonly flags?: readonly string[];
  /** The flags kube-proxy's ipvs proxier sets on every virtual server using this scheduler. */
  readonly kubeProxyFlags?: readonly string[];
  create<D extends Destination>(options?: SchedulerOptions): Scheduler<D>;
}

/** Whether the scheduler was created with an IPVS flag (the registry has checked it is valid). */
export function hasFlag(options: SchedulerOptions | undefined, flag: string): boolean {
  return options?.flags?.includes(flag) ?? false;
}

/** Whether IPVS would let this destination take a new connection at all. */
export function isAvailable(destination: Destination): boolean {
  return destination.weight > 0 && !destination.overloaded;
}

/**
 * The kernel's threshold hysteresis (ip_vs_bind_dest / ip_vs_unbind_dest in ip_vs_conn.c), for a
 * connection table to call after a connection opened or closed on `destination`: at the upper
 * threshold the destination becomes overloaded; it recovers below the lower threshold, or below
 * ¾ of the upper one when no lower one is set, or at once when it has no thresholds at all.
 */
export function applyConnectionThresholds(destination: Destination, event: 'opened' | 'closed'): void {
  const total = destination.activeConns + destination.inactiveConns;
  const upper = destination.upperThreshold ?? 0;
  const lower = destination.lowerThreshold ?? 0;
  if (event === 'opened') {
    if (upper !== 0 && total >= upper) destination.overloaded = true;
    return;
  }
  if (!destination.overloaded) return;
  if (lower !== 0) {
    if (total < lower) destination.overloaded = false;
  } else if (upper !== 0) {
    if (total * 4 < upper * 3) destination.overloaded = false;
  } else {
    destination.overloaded = false;
  }
}

/** IPVS's load measure: active connections weigh 256 times an inactive one (ip_vs_dest_conn_overhead). */
export function connectionOverhead(destination: Destination): number {
  return destination.activeConns * 256 + destination.inactiveConns;
}
