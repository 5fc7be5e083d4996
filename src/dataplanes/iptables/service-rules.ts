import { servicePortChainNames } from '../../model/chain-names.js';
import type { Endpoint } from '../../model/endpoint.js';
import type { ServicePortState } from '../../model/proxy-state.js';
import type { IPFamily } from '../../model/service.js';
import type { RenderOptions } from '../rule-renderer.js';
import { addPolicyChain } from './policy-chain.js';
import type { RuleSetBuilder } from './rule-set.js';
import { comment, isAddressOf, isCidrOf, isPort, protocolMatch } from './rule-text.js';
import { topChains } from './top-level-rules.js';

/** What the rules of one Service port need to know besides the port itself. */
export interface ServiceRulesContext {
  readonly out: RuleSetBuilder;
  readonly options: RenderOptions;
}

/** The frontends and endpoints of one family, with anything malformed left out. */
interface FamilyView {
  readonly clusterIP?: string;
  readonly externalIPs: readonly string[];
  readonly loadBalancerIPs: readonly string[];
  readonly sourceRanges: readonly string[];
  readonly nodePort?: number;
  readonly clusterEndpoints: readonly Endpoint[];
  readonly externalEndpoints: readonly Endpoint[];
  readonly anyEndpoints: boolean;
}

function familyView(port: ServicePortState, family: IPFamily): FamilyView {
  const usable = (endpoints: readonly Endpoint[]) =>
    endpoints.filter((endpoint) => isAddressOf(endpoint.ip, family) && isPort(endpoint.port));
  const clusterEndpoints = usable(port.clusterEndpoints);
  const externalEndpoints = usable(port.externalEndpoints);
  return {
    clusterIP: port.clusterIPs.find((ip) => isAddressOf(ip, family)),
    externalIPs: port.externalIPs.filter((ip) => isAddressOf(ip, family)),
    loadBalancerIPs: port.loadBalancerIPs.filter((ip) => isAddressOf(ip, family)),
    sourceRanges: port.loadBalancerSourceRanges
      .map((range) => range.trim())
      .filter((r) => isCidrOf(r, family)),
    nodePort: isPort(port.nodePort) ? port.nodePort : undefined,
    clusterEndpoints,
    externalEndpoints,
    anyEndpoints: usable(port.allReachableEndpoints).length > 0 || clusterEndpoints.length > 0,
  };
}

/**
 * Adds every rule of one Service port, in kube-proxy's layout: its frontends in KUBE-SERVICES /
 * KUBE-NODEPORTS, its own KUBE-SVC/SVL/EXT/FW/SEP chains, and REJECT / DROP rules in the filter
 * table for frontends with no usable endpoint.
 */
export function addServicePortRules(port: ServicePortState, context: ServiceRulesContext): void {
  const { out, options } = context;
  if (!isPort(port.port)) return;
  const view = familyView(port, options.ipFamily);
  if (!view.clusterIP) return;
  const id = port.id;
  const names = servicePortChainNames(id, port.protocol);
  const proto = protocolMatch(port.protocol);
  const internalChain = port.internalTrafficPolicy === 'Local' ? names.local : names.cluster;
  const externalPolicyChain = port.externalTrafficPolicy === 'Local' ? names.local : names.cluster;
  const hasInternal = view.clusterEndpoints.length > 0;
  const hasExternal = view.externalEndpoints.length > 0;
  const hasExternalFrontends =
    view.nodePort !== undefined || view.externalIPs.length > 0 || view.loadBalancerIPs.length > 0;
  const clusterDestination = `${proto} -d ${view.clusterIP} --dport ${port.port}`;

  // Cluster IP.
  if (hasInternal) {
    out.rule(
      'nat',
      topChains.services,
      `${comment(`${id} cluster IP`)} ${clusterDestination} -j ${internalChain}`,
      id,
    );
  } else {
    const [target, why] =
      port.internalTrafficPolicy === 'Local' && view.anyEndpoints
        ? ['DROP', 'has no local endpoints']
        : ['REJECT', 'has no endpoints'];
    out.rule(
      'filter',
      topChains.services,
      `${comment(`${id} ${why}`)} ${clusterDestination} -j ${target}`,
      id,
    );
  }

  // External frontends: node port, external IPs, load-balancer IPs.
  if (hasExternalFrontends && view.anyEndpoints) {
    addExternalChain(port, context, { internalChain, externalPolicyChain, hasExternal });
    for (const ip of view.externalIPs) {
      out.rule(
        'nat',
        topChains.services,
        `${comment(`${id} external IP`)} ${proto} -d ${ip} --dport ${port.port} -j ${names.external}`,
        id,
      );
    }
    for (const ip of view.loadBalancerIPs) {
      const target = view.sourceRanges.length > 0 ? names.firewall : names.external;
      out.rule(
        'nat',
        topChains.services,
        `${comment(`${id} loadbalancer IP`)} ${proto} -d ${ip} --dport ${port.port} -j ${target}`,
        id,
      );
    }
    if (view.nodePort !== undefined) {
      out.rule(
        'nat',
        topChains.nodePorts,
        `${comment(id)} ${proto} --dport ${view.nodePort} -j ${names.external}`,
        id,
      );
    }
    if (view.sourceRanges.length > 0 && view.loadBalancerIPs.length > 0) addFirewall(port, view, context);
  }
  if (hasExternalFrontends && !hasExternal) addExternalFilter(port, view, context);
  if (port.externalTrafficPolicy === 'Local' && isPort(port.healthCheckNodePort)) {
    out.rule(
      'filter',
      topChains.nodePorts,
      `${comment(`${id} health check node port`)} ${protocolMatch('TCP')} --dport ${port.healthCheckNodePort} -j ACCEPT`,
      id,
    );
  }

  // Endpoint selection chains.
  if (hasInternal)
    addPolicyChain(
      port,
      internalChain,
      view.clusterEndpoints,
      context,
      internalChain === names.cluster ? clusterDestination : undefined,
    );
  if (hasExternal && externalPolicyChain !== internalChain)
    addPolicyChain(port, externalPolicyChain, view.externalEndpoints, context, undefined);
}

interface ExternalChainTargets {
  readonly internalChain: string;
  readonly externalPolicyChain: string;
  readonly hasExternal: boolean;
}

/** KUBE-EXT: masquerade outside traffic; with ETP Local, pod and node traffic short-circuit to the cluster chain. */
function addExternalChain(
  port: ServicePortState,
  context: ServiceRulesContext,
  targets: ExternalChainTargets,
): void {
  const { out, options } = context;
  const id = port.id;
  const chain = servicePortChainNames(id, port.protocol).external;
  out.chain('nat', chain, id);
  if (port.externalTrafficPolicy === 'Local') {
    for (const cidr of options.clusterCIDRs.filter((c) => isCidrOf(c, options.ipFamily))) {
      out.rule(
        'nat',
        chain,
        `${comment(`pod traffic for ${id} external destinations`)} -s ${cidr} -j ${targets.internalChain}`,
      );
    }
    out.rule(
      'nat',
      chain,
      `${comment(`masquerade LOCAL traffic for ${id} external destinations`)} -m addrtype --src-type LOCAL -j ${topChains.markMasq}`,
    );
    out.rule(
      'nat',
      chain,
      `${comment(`route LOCAL traffic for ${id} external destinations`)} -m addrtype --src-type LOCAL -j ${targets.internalChain}`,
    );
  } else {
    out.rule(
      'nat',
      chain,
      `${comment(`masquerade traffic for ${id} external destinations`)} -j ${topChains.markMasq}`,
    );
  }
  if (targets.hasExternal) out.rule('nat', chain, `-j ${targets.externalPolicyChain}`);
}

/** KUBE-FW accepts the allowed source ranges; the rest falls through to KUBE-PROXY-FIREWALL's DROP. */
function addFirewall(port: ServicePortState, view: FamilyView, context: ServiceRulesContext): void {
  const { out } = context;
  const id = port.id;
  const names = servicePortChainNames(id, port.protocol);
  out.chain('nat', names.firewall, id);
  for (const range of view.sourceRanges) {
    out.rule('nat', names.firewall, `${comment(`${id} loadbalancer IP`)} -s ${range} -j ${names.external}`);
  }
  out.rule('nat', names.firewall, comment(`other traffic to ${id} will be dropped by KUBE-PROXY-FIREWALL`));
  for (const ip of view.loadBalancerIPs) {
    out.rule(
      'filter',
      topChains.proxyFirewall,
      `${comment(`${id} traffic not accepted by ${names.firewall}`)} ${protocolMatch(port.protocol)} -d ${ip} --dport ${port.port} -j DROP`,
      id,
    );
  }
}

/** REJECT (no endpoints at all) or DROP (ETP Local, none on this node) for the external frontends. */
function addExternalFilter(port: ServicePortState, view: FamilyView, context: ServiceRulesContext): void {
  const { out } = context;
  const id = port.id;
  const proto = protocolMatch(port.protocol);
  const [target, why] =
    port.externalTrafficPolicy === 'Local' && view.anyEndpoints
      ? ['DROP', 'has no local endpoints']
      : ['REJECT', 'has no endpoints'];
  const note = comment(`${id} ${why}`);
  for (const ip of [...view.externalIPs, ...view.loadBalancerIPs]) {
    out.rule(
      'filter',
      topChains.externalServices,
      `${note} ${proto} -d ${ip} --dport ${port.port} -j ${target}`,
      id,
    );
  }
  if (view.nodePort !== undefined) {
    out.rule(
      'filter',
      topChains.externalServices,
      `${note} -m addrtype --dst-type LOCAL ${proto} --dport ${view.nodePort} -j ${target}`,
      id,
    );
  }
}
