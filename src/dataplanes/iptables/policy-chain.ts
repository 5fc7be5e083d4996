import { servicePortEndpointChainName } from '../../model/chain-names.js';
import type { Endpoint } from '../../model/endpoint.js';
import type { ServicePortState } from '../../model/proxy-state.js';
import type { RenderOptions } from '../rule-renderer.js';
import { comment, hostPort, isCidrOf, probability, protocolMatch } from './rule-text.js';
import type { ServiceRulesContext } from './service-rules.js';
import { topChains } from './top-level-rules.js';

/** KUBE-SVC / KUBE-SVL: affinity, then one rule per endpoint with kube-proxy's probabilities; and each endpoint's KUBE-SEP. */
export function addPolicyChain(
  port: ServicePortState,
  chain: string,
  endpoints: readonly Endpoint[],
  context: ServiceRulesContext,
  clusterDestination: string | undefined,
): void {
  const { out, options } = context;
  const id = port.id;
  out.chain('nat', chain, id);
  if (clusterDestination !== undefined) {
    const masq = masqueradeMatch(options);
    if (masq !== undefined)
      out.rule(
        'nat',
        chain,
        `${comment(`${id} cluster IP`)} ${clusterDestination}${masq} -j ${topChains.markMasq}`,
      );
  }
  const affinity = port.sessionAffinity.type === 'ClientIP';
  const seps = endpoints.map((endpoint) => {
    const address = hostPort(endpoint.ip, endpoint.port);
    return { endpoint, address, sep: servicePortEndpointChainName(id, port.protocol, address) };
  });
  if (affinity) {
    for (const { address, sep } of seps) {
      out.rule(
        'nat',
        chain,
        `${comment(`${id} -> ${address}`)} -m recent --name ${sep} --rcheck --seconds ${port.sessionAffinity.timeoutSeconds} --reap -j ${sep}`,
      );
    }
  }
  seps.forEach(({ address, sep }, index) => {
    const remaining = seps.length - index;
    const statistic =
      remaining > 1 ? ` -m statistic --mode random --probability ${probability(1 / remaining)}` : '';
    out.rule('nat', chain, `${comment(`${id} -> ${address}`)}${statistic} -j ${sep}`);
  });
  for (const { endpoint, address, sep } of seps) {
    // The same endpoint chain may serve both the SVC and the SVL chain.
    if (out.chain('nat', sep, id).rules.length > 0) continue;
    out.rule('nat', sep, `${comment(id)} -s ${endpoint.ip} -j ${topChains.markMasq}`);
    const recent = affinity ? ` -m recent --name ${sep} --set` : '';
    out.rule(
      'nat',
      sep,
      `${comment(id)}${recent} ${protocolMatch(port.protocol)} -j DNAT --to-destination ${address}`,
    );
  }
}

/** ` ! -s CIDR` (detectLocal ClusterCIDR), `` (masqueradeAll), or undefined (no way to tell pod traffic). */
function masqueradeMatch(options: RenderOptions): string | undefined {
  if (options.masqueradeAll) return '';
  const cidr = options.clusterCIDRs.find((c) => isCidrOf(c, options.ipFamily));
  return cidr === undefined ? undefined : ` ! -s ${cidr}`;
}
