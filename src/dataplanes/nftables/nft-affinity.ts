import type { Endpoint } from '../../model/endpoint.js';
import type { ServicePortState } from '../../model/proxy-state.js';
import type { NftChain, NftSetDeclaration } from './nft-fragment.js';
import { dnatToEndpoint, type FrontendKind, masqueradeRule, type PickerContext } from './nft-picker.js';
import { endpointKey, safeComment } from './nft-terms.js';

export interface AffinityRequest {
  readonly servicePort: ServicePortState;
  readonly key: string;
  readonly kind: FrontendKind;
  readonly endpoints: readonly Endpoint[];
  readonly context: PickerContext;
}

/**
 * ClientIP session affinity, as kube-proxy does it in nftables mode: one dynamic set of client
 * addresses per endpoint, with the Service's timeout. A client found in an endpoint's set goes
 * there again (and its entry is refreshed); a new client is spread like iptables' statistic
 * rules — rule i matches with probability 1/(N-i) — and remembered in the chosen endpoint's set.
 * No chain per endpoint and no mark: the draw happens inside each rule. Sets are named by
 * endpoint, so a client keeps its endpoint while other endpoints come and go.
 */
export function renderAffinityChain(request: AffinityRequest): {
  chain: NftChain;
  sets: NftSetDeclaration[];
} {
  const { servicePort, key, kind, endpoints, context } = request;
  const { keyword, addressType } = context.terms;
  const timeout = Math.max(1, Math.floor(servicePort.sessionAffinity.timeoutSeconds));
  // The timeout is part of the name: a set's declaration never changes under the same name.
  const setName = (endpoint: Endpoint) =>
    `affinity-${key}-${endpointKey(endpoint.ip, endpoint.port)}-${timeout}`;
  const sets: NftSetDeclaration[] = endpoints.map((endpoint) => ({
    kind: 'set',
    name: setName(endpoint),
    body: `type ${addressType}; size 65535; flags dynamic,timeout; timeout ${timeout}s;`,
  }));
  const remember = (endpoint: Endpoint) =>
    `update @${setName(endpoint)} { ${keyword} saddr } ${dnatToEndpoint(servicePort, endpoint, context.terms)}`;
  const masquerade = masqueradeRule(kind, context);
  const rules = [
    ...(masquerade ? [masquerade] : []),
    ...endpoints.map((endpoint) => `${keyword} saddr @${setName(endpoint)} ${remember(endpoint)}`),
    ...endpoints.map((endpoint, index) => {
      const remaining = endpoints.length - index;
      return remaining > 1 ? `numgen random mod ${remaining} 0 ${remember(endpoint)}` : remember(endpoint);
    }),
  ];
  return {
    chain: { name: `affinity-${key}-${kind}`, comment: safeComment(`${servicePort.id} affinity`), rules },
    sets,
  };
}
