import type { Endpoint } from './endpoint.js';
import type { IPFamily, ServicePort } from './service.js';

/**
 * A Service port together with the endpoints control chose for it. Data planes program
 * `clusterEndpoints` for traffic to the cluster IP and `externalEndpoints` for traffic arriving
 * from outside (node ports, external and load-balancer IPs); the two differ when a traffic
 * policy is Local.
 */
export interface ServicePortState extends ServicePort {
  readonly clusterEndpoints: readonly Endpoint[];
  readonly externalEndpoints: readonly Endpoint[];
  /** Every endpoint any traffic may reach (the union of the two lists above). */
  readonly allReachableEndpoints: readonly Endpoint[];
  /** True when the Service has endpoints at all, even if none is usable from here. */
  readonly hasAnyEndpoints: boolean;
  /**
   * This node's usable endpoints, when some traffic policy is Local (else empty). Endpoint lists
   * of a dual-stack port hold both families, each chosen within its own family as kube-proxy's
   * per-family proxiers do: filter by family to get one family's lists.
   */
  readonly localEndpoints?: readonly Endpoint[];
  /** The families for which `hasAnyEndpoints` holds (a family's rules REJECT when it is missing). */
  readonly familiesWithEndpoints?: readonly IPFamily[];
  /** The topology mode the endpoints were chosen by: '' none, or PreferSameZone / PreferSameNode. */
  readonly topologyMode?: string;
}

/** An immutable snapshot of everything the proxy must program; data planes read it, never change it. */
export interface ProxyState {
  readonly nodeName: string;
  readonly servicePorts: ReadonlyMap<string, ServicePortState>;
}

export function freezeProxyState(nodeName: string, ports: Iterable<ServicePortState>): ProxyState {
  const servicePorts = new Map<string, ServicePortState>();
  for (const port of ports) servicePorts.set(port.id, Object.freeze(port));
  return Object.freeze({ nodeName, servicePorts });
}

/** A snapshot around a map of already-frozen service port states that nobody modifies any more. */
export function proxyStateOf(
  nodeName: string,
  servicePorts: ReadonlyMap<string, ServicePortState>,
): ProxyState {
  return Object.freeze({ nodeName, servicePorts });
}
