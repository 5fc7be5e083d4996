import type { Endpoint } from '../model/endpoint.js';
import type { ServicePortState } from '../model/proxy-state.js';
import { type IPFamily, isExternallyAccessible, type ServicePort } from '../model/service.js';
import { ipFamilyOf } from '../model/validation.js';
import { categorizeEndpoints, type NodeTopology } from './categorize-endpoints.js';

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
  const cluster: Endpoint[] = [];
  const external: Endpoint[] = [];
  const local: Endpoint[] = [];
  const reachable: Endpoint[] = [];
  const familiesWithEndpoints: IPFamily[] = [];
  let topologyMode = '';
  const externalLocal = port.externalTrafficPolicy === 'Local' && isExternallyAccessible(port);
  for (const family of port.ipFamilies ?? ['IPv4']) {
    const ofFamily = endpoints.filter((endpoint) => ipFamilyOf(endpoint.ip) === family);
    const chosen = categorizeEndpoints(ofFamily, port, node);
    const clusterChoice = chosen.clusterEndpoints ?? [];
    const localChoice = chosen.localEndpoints ?? [];
    cluster.push(...(port.internalTrafficPolicy === 'Local' ? localChoice : clusterChoice));
    external.push(...(externalLocal ? localChoice : clusterChoice));
    local.push(...localChoice);
    reachable.push(...chosen.allReachableEndpoints);
    if (chosen.hasAnyEndpoints) familiesWithEndpoints.push(family);
    topologyMode ||= chosen.topologyMode;
  }
  return {
    ...port,
    clusterEndpoints: cluster,
    externalEndpoints: external,
    allReachableEndpoints: reachable,
    hasAnyEndpoints: familiesWithEndpoints.length > 0,
    localEndpoints: local,
    familiesWithEndpoints,
    topologyMode,
  };
}
