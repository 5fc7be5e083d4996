import type { Endpoint } from '../../model/endpoint.js';
import type { ServicePortState } from '../../model/proxy-state.js';
import { renderAffinityChain } from './nft-affinity.js';
import type { NftChain, NftElement, NftFragment, NftSetDeclaration } from './nft-fragment.js';
import {
  type EndpointPicker,
  endpointData,
  type Frontend,
  type FrontendKind,
  type PickerContext,
} from './nft-picker.js';
import { protocolName, safeComment, servicePortKey } from './nft-terms.js';

export interface FragmentContext extends PickerContext {
  readonly picker: EndpointPicker;
}

/** Endpoints of this family with a valid port, in a stable order (index i means the same pod each time). */
export function usableEndpoints(endpoints: readonly Endpoint[], context: PickerContext): Endpoint[] {
  return endpoints
    .filter((e) => context.terms.isAddress(e.ip) && Number.isInteger(e.port) && e.port > 0 && e.port < 65536)
    .sort((a, b) => (a.ip === b.ip ? a.port - b.port : a.ip < b.ip ? -1 : 1));
}

/**
 * Everything one service port puts in the table: its frontends in the verdict maps, its endpoints
 * in the endpoint maps (through the picker), a reject or drop when it has no usable endpoints,
 * a firewall for load-balancer source ranges, affinity chains and sets, hairpin pairs.
 */
export function renderServiceFragment(servicePort: ServicePortState, context: FragmentContext): NftFragment {
  const key = servicePortKey(servicePort.id, servicePort.protocol);
  const comment = safeComment(servicePort.id);
  const proto = protocolName(servicePort.protocol);
  const { keyword } = context.terms;
  const elements: NftElement[] = [];
  const chains = new Map<string, NftChain>();
  const sharedChains = new Map<string, NftChain>();
  const sets = new Map<string, NftSetDeclaration>();
  const clusterEndpoints = usableEndpoints(servicePort.clusterEndpoints, context);
  // The lists are usually one and the same array: filter and sort it once.
  const sameAsCluster = (list: readonly Endpoint[]) => list === servicePort.clusterEndpoints;
  const externalEndpoints = sameAsCluster(servicePort.externalEndpoints)
    ? clusterEndpoints
    : usableEndpoints(servicePort.externalEndpoints, context);
  const externalKind: FrontendKind = servicePort.externalTrafficPolicy === 'Local' ? 'local' : 'external';
  const noEndpointsVerdict = servicePort.hasAnyEndpoints ? 'drop' : 'goto reject-services';
  // externalTrafficPolicy Local keeps outside clients on local pods, but pods of this cluster
  // reaching the Service's external addresses go to every endpoint, as they would by cluster IP.
  const cidrs = context.options.clusterCIDRs;
  const shortCircuit = cidrs.length > 0 && clusterEndpoints.length > 0;
  const shortCircuitChain = (frontendType: 'ip' | 'nodeport', then: string | undefined): NftChain => {
    const targets = clusterEndpoints.map((e, i) => `${i} : ${endpointData(e)}`).join(', ');
    const pick = `numgen random mod ${clusterEndpoints.length} map { ${targets} }`;
    return {
      name: `local-shortcut-${key}-${frontendType}`,
      comment,
      rules: [
        `${keyword} saddr { ${cidrs.join(', ')} } meta l4proto ${proto} dnat to ${pick}`,
        ...(then ? [then] : []),
      ],
    };
  };

  const addFrontend = (frontend: Frontend, kind: FrontendKind, endpoints: readonly Endpoint[]) => {
    const ipFrontend = 'ip' in frontend;
    const frontendKey = ipFrontend
      ? `${frontend.ip} . ${proto} . ${servicePort.port}`
      : `${proto} . ${frontend.nodePort}`;
    let verdict: string | undefined;
    if (endpoints.length === 0) {
      const map = ipFrontend ? 'no-endpoint-services' : 'no-endpoint-nodeports';
      elements.push({ map, key: frontendKey, value: noEndpointsVerdict, comment });
    } else if (servicePort.sessionAffinity.type === 'ClientIP') {
      const affinity = renderAffinityChain({ servicePort, key, kind, endpoints, context });
      chains.set(affinity.chain.name, affinity.chain);
      for (const set of affinity.sets) sets.set(set.name, set);
      verdict = `goto ${affinity.chain.name}`;
    } else {
      const pick = context.picker.pick({ servicePort, key, kind, endpoints, frontend });
      elements.push(...pick.elements);
      for (const chain of pick.chains) chains.set(chain.name, chain);
      for (const chain of pick.sharedChains) sharedChains.set(chain.name, chain);
      verdict = pick.verdict;
    }
    if (kind === 'local' && shortCircuit) {
      const chain = shortCircuitChain(ipFrontend ? 'ip' : 'nodeport', verdict);
      chains.set(chain.name, chain);
      verdict = `goto ${chain.name}`;
    }
    if (verdict) {
      elements.push({
        map: ipFrontend ? 'service-ips' : 'service-nodeports',
        key: frontendKey,
        value: verdict,
        comment,
      });
    }
  };

  const ofFamily = (ips: readonly string[]) => [...new Set(ips.filter((ip) => context.terms.isAddress(ip)))];
  for (const ip of ofFamily(servicePort.clusterIPs)) addFrontend({ ip }, 'cluster', clusterEndpoints);
  for (const ip of ofFamily(servicePort.externalIPs)) addFrontend({ ip }, externalKind, externalEndpoints);
  const loadBalancerIPs = ofFamily(servicePort.loadBalancerIPs);
  for (const ip of loadBalancerIPs) addFrontend({ ip }, externalKind, externalEndpoints);
  if (servicePort.nodePort) addFrontend({ nodePort: servicePort.nodePort }, externalKind, externalEndpoints);

  const sourceRanges = servicePort.loadBalancerSourceRanges.filter((cidr) =>
    context.terms.isAddress(cidr.split('/')[0] ?? ''),
  );
  if (sourceRanges.length > 0 && loadBalancerIPs.length > 0) {
    const firewall: NftChain = {
      name: `firewall-${key}`,
      comment,
      rules: [`${keyword} saddr != { ${sourceRanges.join(', ')} } drop`],
    };
    chains.set(firewall.name, firewall);
    for (const ip of loadBalancerIPs) {
      elements.push({
        map: 'firewall-ips',
        key: `${ip} . ${proto} . ${servicePort.port}`,
        value: `goto ${firewall.name}`,
        comment,
      });
    }
  }
  // A pod reaching itself through its own Service must be masqueraded, or it would answer itself
  // directly. Only pods on this node send through this node's rules (an endpoint without a node
  // name might be one of them).
  const reachable = sameAsCluster(servicePort.allReachableEndpoints)
    ? clusterEndpoints
    : usableEndpoints(servicePort.allReachableEndpoints, context);
  for (const endpoint of reachable) {
    if (!endpoint.isLocal && endpoint.nodeName !== undefined) continue;
    elements.push({ map: 'hairpin', key: `${endpoint.ip} . ${endpoint.ip}` });
  }
  return {
    owner: servicePort.id,
    elements,
    chains: [...chains.values()],
    sharedChains: [...sharedChains.values()],
    sets: [...sets.values()],
  };
}
