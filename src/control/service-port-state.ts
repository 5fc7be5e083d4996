import type { Endpoint } from '../model/endpoint.js';
import type { ServicePortState } from '../model/proxy-state.js';
import { isExternallyAccessible, type ServicePort } from '../model/service.js';
import { ipFamilyOf } from '../model/validation.js';
import { type CategorizedEndpoints, categorizeEndpoints, type NodeTopology } from './categorize-endpoints.js';

/**
 * A service port with its endpoints chosen. Each IP family of the Service is categorized on its
 * own (kube-proxy runs one proxier per family), then the families' lists are joined. Traffic to
 * the cluster IP takes the Local endpoints under internalTrafficPolicy Local; traffic from
 * outside takes them under externalTrafficPolicy Local; otherwise both take the Cluster ones.
 */
export function servicePortState(
  port: ServicePort,
  endpoints: readonly Endpoint[],
  node: NodeTopology,
): ServicePortState {
  const families = port.ipFamilies ?? ['IPv4'];
  const perFamily = families.map((family) => {
    const ofFamily = endpoints.every((e) => ipFamilyOf(e.ip) === family)
      ? endpoints
      : endpoints.filter((e) => ipFamilyOf(e.ip) === family);
    return { family, chosen: categorizeEndpoints(ofFamily, port, node) };
  });
  const externalLocal = port.externalTrafficPolicy === 'Local' && isExternallyAccessible(port);
  const [only] = perFamily;
  const join = (pick: (chosen: CategorizedEndpoints) => readonly Endpoint[]): readonly Endpoint[] =>
    Object.freeze(
      only && perFamily.length === 1 ? pick(only.chosen) : perFamily.flatMap(({ chosen }) => pick(chosen)),
    );
  const clusterOf = (c: CategorizedEndpoints) => c.clusterEndpoints ?? [];
  const localOf = (c: CategorizedEndpoints) => c.localEndpoints ?? [];
  // Every field spelled out (not spread): all states share one compact shape, even frozen.
  return {
    id: port.id,
    namespace: port.namespace,
    name: port.name,
    portName: port.portName,
    protocol: port.protocol,
    port: port.port,
    clusterIPs: port.clusterIPs,
    nodePort: port.nodePort,
    externalIPs: port.externalIPs,
    loadBalancerIPs: port.loadBalancerIPs,
    loadBalancerSourceRanges: port.loadBalancerSourceRanges,
    sessionAffinity: port.sessionAffinity,
    externalTrafficPolicy: port.externalTrafficPolicy,
    internalTrafficPolicy: port.internalTrafficPolicy,
    healthCheckNodePort: port.healthCheckNodePort,
    serviceType: port.serviceType,
    ipFamilies: port.ipFamilies,
    trafficDistribution: port.trafficDistribution,
    scheduler: port.scheduler,
    schedulerFlags: port.schedulerFlags,
    clusterEndpoints: join(port.internalTrafficPolicy === 'Local' ? localOf : clusterOf),
    externalEndpoints: join(externalLocal ? localOf : clusterOf),
    allReachableEndpoints: join((c) => c.allReachableEndpoints),
    hasAnyEndpoints: perFamily.some(({ chosen }) => chosen.hasAnyEndpoints),
    localEndpoints: join(localOf),
    familiesWithEndpoints: perFamily
      .filter(({ chosen }) => chosen.hasAnyEndpoints)
      .map(({ family }) => family),
    topologyMode: perFamily.find(({ chosen }) => chosen.topologyMode !== '')?.chosen.topologyMode ?? '',
  };
}
