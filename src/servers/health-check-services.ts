import type { ProxyState } from '../model/proxy-state.js';

/** One Service's health check as the state asks for it. */
export interface DesiredHealthCheck {
  readonly port: number;
  /** Ready endpoints of the Service on this node, counted by IP across its ports (kube-proxy's count). */
  localEndpoints: number;
}

/**
 * The health checks `state` needs, keyed `namespace/name`: one per Service with
 * `externalTrafficPolicy: Local` and a `healthCheckNodePort`. An endpoint serving two ports of
 * the Service counts once, as in kube-proxy, and terminating endpoints do not count, so a
 * load balancer stops sending new traffic to a node whose pods are all going away.
 */
export function desiredHealthChecks(state: ProxyState): Map<string, DesiredHealthCheck> {
  const ports = new Map<string, number>();
  const localIPs = new Map<string, Set<string>>();
  for (const servicePort of state.servicePorts.values()) {
    if (servicePort.externalTrafficPolicy !== 'Local' || !servicePort.healthCheckNodePort) continue;
    const key = `${servicePort.namespace}/${servicePort.name}`;
    ports.set(key, servicePort.healthCheckNodePort);
    const ips = localIPs.get(key) ?? new Set<string>();
    for (const endpoint of servicePort.allReachableEndpoints) {
      if (endpoint.isLocal && endpoint.ready) ips.add(endpoint.ip);
    }
    localIPs.set(key, ips);
  }
  const desired = new Map<string, DesiredHealthCheck>();
  for (const [key, port] of ports) desired.set(key, { port, localEndpoints: localIPs.get(key)?.size ?? 0 });
  return desired;
}
