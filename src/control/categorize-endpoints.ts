/**
 * Which endpoints traffic to a service port may reach from this node, decided once for every
 * data plane, with kube-proxy's rules (CategorizeEndpoints in pkg/proxy/topology.go):
 *
 * - Cluster endpoints: the ready ones, narrowed by topology hints when every ready endpoint has a
 *   hint and one is meant for this node (PreferSameNode) or this node's zone (PreferSameZone);
 *   with no ready endpoint anywhere, the serving-and-terminating ones instead.
 * - Local endpoints (only when a traffic policy is Local): this node's ready ones, or, with none
 *   ready here, this node's serving-and-terminating ones. Topology never narrows them.
 * - hasAnyEndpoints: some usable endpoint exists anywhere, even if not from here (so the data
 *   plane drops instead of rejecting).
 */
import type { Endpoint } from '../model/endpoint.js';
import { endpointAddress } from '../model/endpoint.js';
import { type ServicePort, usesClusterEndpoints, usesLocalEndpoints } from '../model/service.js';

export type TopologyMode = '' | 'PreferSameZone' | 'PreferSameNode';

export interface NodeTopology {
  readonly nodeName: string;
  /** The node's `topology.kubernetes.io/zone` label, '' when it has none. */
  readonly zone: string;
}

export interface CategorizedEndpoints {
  /** Undefined when the port never uses Cluster policy (internal Local, not reachable from outside). */
  readonly clusterEndpoints?: readonly Endpoint[];
  /** Undefined when no traffic policy of the port is Local. */
  readonly localEndpoints?: readonly Endpoint[];
  readonly allReachableEndpoints: readonly Endpoint[];
  readonly hasAnyEndpoints: boolean;
  readonly topologyMode: TopologyMode;
}

const isServingTerminating = (endpoint: Endpoint) => endpoint.serving && endpoint.terminating;

export function categorizeEndpoints(
  endpoints: readonly Endpoint[],
  port: ServicePort,
  node: NodeTopology,
): CategorizedEndpoints {
  if (endpoints.length === 0) return { allReachableEndpoints: [], hasAnyEndpoints: false, topologyMode: '' };
  let clusterEndpoints: Endpoint[] | undefined;
  let topologyMode: TopologyMode = '';
  if (usesClusterEndpoints(port)) {
    topologyMode = topologyModeFromHints(endpoints, node);
    clusterEndpoints =
      topologyMode === '' && endpoints.every((e) => e.ready)
        ? (endpoints as Endpoint[]) // the common case: no copy
        : endpoints.filter((e) => e.ready && availableForTopology(e, topologyMode, node));
    // Topology was already dropped if it left no ready endpoint, so none is ready anywhere.
    if (clusterEndpoints.length === 0) clusterEndpoints = endpoints.filter(isServingTerminating);
  }
  const hasClusterEndpoints = (clusterEndpoints?.length ?? 0) > 0;
  if (!usesLocalEndpoints(port)) {
    const all = clusterEndpoints ?? [];
    return {
      clusterEndpoints: all,
      allReachableEndpoints: all,
      hasAnyEndpoints: hasClusterEndpoints,
      topologyMode,
    };
  }
  const local = localEndpointsOf(endpoints);
  const hasAnyEndpoints = hasClusterEndpoints || endpoints.some((e) => e.ready || isServingTerminating(e));
  if (!clusterEndpoints) {
    return {
      localEndpoints: local.endpoints,
      allReachableEndpoints: local.endpoints,
      hasAnyEndpoints,
      topologyMode,
    };
  }
  const allReachableEndpoints =
    topologyMode === '' && !local.servingTerminating
      ? clusterEndpoints // every ready endpoint, so already a superset of the local ones
      : unionByAddress(clusterEndpoints, local.endpoints);
  return {
    clusterEndpoints,
    localEndpoints: local.endpoints,
    allReachableEndpoints,
    hasAnyEndpoints,
    topologyMode,
  };
}

function localEndpointsOf(endpoints: readonly Endpoint[]): {
  endpoints: Endpoint[];
  servingTerminating: boolean;
} {
  const ready = endpoints.filter((e) => e.isLocal && e.ready);
  if (ready.length > 0) return { endpoints: ready, servingTerminating: false };
  const terminating = endpoints.filter((e) => e.isLocal && isServingTerminating(e));
  return { endpoints: terminating, servingTerminating: terminating.length > 0 };
}

/**
 * The topology mode the hints allow: PreferSameNode when every ready endpoint has a node hint and
 * one names this node; else PreferSameZone when every ready endpoint has a zone hint and one names
 * this node's zone; else none (hints are all-or-nothing, so a half-hinted slice is ignored).
 */
export function topologyModeFromHints(endpoints: readonly Endpoint[], node: NodeTopology): TopologyMode {
  let anyReady = false;
  let allNodeHints = true;
  let hintForNode = false;
  let allZoneHints = true;
  let hintForZone = false;
  for (const endpoint of endpoints) {
    if (!endpoint.ready) continue;
    anyReady = true;
    if (!endpoint.nodeHints?.length) allNodeHints = false;
    else if (endpoint.nodeHints.includes(node.nodeName)) hintForNode = true;
    if (!endpoint.zoneHints?.length) allZoneHints = false;
    else if (endpoint.zoneHints.includes(node.zone)) hintForZone = true;
  }
  if (!anyReady) return '';
  if (allNodeHints && hintForNode) return 'PreferSameNode';
  if (allZoneHints && hintForZone) return 'PreferSameZone';
  return '';
}

function availableForTopology(endpoint: Endpoint, mode: TopologyMode, node: NodeTopology): boolean {
  if (mode === 'PreferSameNode') return endpoint.nodeHints?.includes(node.nodeName) ?? false;
  if (mode === 'PreferSameZone') return endpoint.zoneHints?.includes(node.zone) ?? false;
  return true;
}

function unionByAddress(first: readonly Endpoint[], second: readonly Endpoint[]): Endpoint[] {
  const byAddress = new Map<string, Endpoint>();
  for (const endpoint of [...first, ...second]) byAddress.set(endpointAddress(endpoint), endpoint);
  return [...byAddress.values()];
}
