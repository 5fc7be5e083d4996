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
}

export interface SchedulerDescriptor {
  readonly name: string;
  /** One line for `--help` and error messages. */
  readonly summary: string;
  create<D extends Destination>(options?: SchedulerOptions): Scheduler<D>;
}

/** Whether IPVS would let this destination take a new connection at all. */
export function isAvailable(destination: Destination): boolean {
  return destination.weight > 0 && !destination.overloaded;
}

/** IPVS's load measure: active connections weigh 256 times an inactive one (ip_vs_dest_conn_overhead). */
export function connectionOverhead(destination: Destination): number {
  return destination.activeConns * 256 + destination.inactiveConns;
}
