/**
 * The proxy's view of a Service port: everything a data plane needs to program one frontend
 * (cluster IP, node port, external and load-balancer IPs) and its policies. One ServicePort per
 * (namespace, name, port name, protocol), like kube-proxy's ServicePortName.
 */

export type Protocol = 'TCP' | 'UDP' | 'SCTP';
export type IPFamily = 'IPv4' | 'IPv6';
export type TrafficPolicy = 'Cluster' | 'Local';

export interface SessionAffinity {
  readonly type: 'None' | 'ClientIP';
  /** Seconds a ClientIP affinity entry lives (kube-proxy's default: 10800). */
  readonly timeoutSeconds: number;
}

export interface ServicePort {
  /** `namespace/name:portName` — kube-proxy's ServicePortName.String(). */
  readonly id: string;
  readonly namespace: string;
  readonly name: string;
  /** The port's name; empty for a Service's single unnamed port. */
  readonly portName: string;
  readonly protocol: Protocol;
  readonly port: number;
  readonly clusterIPs: readonly string[];
  readonly nodePort?: number;
  readonly externalIPs: readonly string[];
  readonly loadBalancerIPs: readonly string[];
  readonly loadBalancerSourceRanges: readonly string[];
  readonly sessionAffinity: SessionAffinity;
  readonly externalTrafficPolicy: TrafficPolicy;
  readonly internalTrafficPolicy: TrafficPolicy;
  readonly healthCheckNodePort?: number;
  /** The Service's type; ExternalName Services never become ServicePorts. */
  readonly serviceType?: 'ClusterIP' | 'NodePort' | 'LoadBalancer';
  /** The IP families of `clusterIPs`, primary first. */
  readonly ipFamilies?: readonly IPFamily[];
  /** `spec.trafficDistribution` (PreferClose …), shown to users; endpoint hints carry its effect. */
  readonly trafficDistribution?: string;
  /** IPVS scheduler from the `kproxy.io/ipvs-scheduler` annotation; unset means the configured one. */
  readonly scheduler?: string;
  /**
   * IPVS scheduler flags from the `kproxy.io/ipvs-scheduler-flags` annotation (possibly none);
   * unset means the flags kube-proxy sets for the scheduler (see `effectiveSchedulerFlags`).
   */
  readonly schedulerFlags?: readonly string[];
}

/** kube-proxy's ServicePortName string: `ns/name:port`, or `ns/name` for an unnamed port. */
export function servicePortId(namespace: string, name: string, portName: string): string {
  return portName === '' ? `${namespace}/${name}` : `${namespace}/${name}:${portName}`;
}

/** Reached from outside the cluster: a node port, an external IP or a load-balancer IP. */
export function isExternallyAccessible(port: ServicePort): boolean {
  return (port.nodePort ?? 0) !== 0 || port.externalIPs.length > 0 || port.loadBalancerIPs.length > 0;
}

/** kube-proxy's UsesClusterEndpoints: internal policy Cluster, or external traffic at all (short circuit). */
export function usesClusterEndpoints(port: ServicePort): boolean {
  return port.internalTrafficPolicy !== 'Local' || isExternallyAccessible(port);
}

/** kube-proxy's UsesLocalEndpoints: some traffic to this port is restricted to this node's endpoints. */
export function usesLocalEndpoints(port: ServicePort): boolean {
  return (
    port.internalTrafficPolicy === 'Local' ||
    (port.externalTrafficPolicy === 'Local' && isExternallyAccessible(port))
  );
}
