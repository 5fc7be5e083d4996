import type { Endpoint } from '../../model/endpoint.js';
import type { ServicePortState } from '../../model/proxy-state.js';
import type { RenderOptions } from '../rule-renderer.js';
import type { NftChain, NftElement } from './nft-fragment.js';
import { type FamilyTerms, markHex, protocolName } from './nft-terms.js';

/**
 * How traffic to a frontend is masqueraded: `cluster` (cluster IPs: from outside the cluster
 * CIDRs, or always with masqueradeAll), `external` (node ports, external and LB IPs with
 * externalTrafficPolicy Cluster: always), `local` (externalTrafficPolicy Local: never, the
 * client's address is kept).
 */
export type FrontendKind = 'cluster' | 'external' | 'local';

export type Frontend = { readonly ip: string } | { readonly nodePort: number };

export interface PickRequest {
  readonly servicePort: ServicePortState;
  /** servicePortKey of the Service. */
  readonly key: string;
  readonly kind: FrontendKind;
  /** Validated and sorted; never empty. */
  readonly endpoints: readonly Endpoint[];
  readonly frontend: Frontend;
}

/** What a frontend's verdict-map element points at, and what that needs in the table. */
export interface PickResult {
  readonly verdict: string;
  readonly elements: readonly NftElement[];
  readonly chains: readonly NftChain[];
  readonly sharedChains: readonly NftChain[];
}

/** Chooses the endpoint of a new connection: random (nftables mode) or an IPVS scheduler. */
export interface EndpointPicker {
  pick(request: PickRequest): PickResult;
}

export interface PickerContext {
  readonly options: RenderOptions;
  readonly terms: FamilyTerms;
}

/** The rule that sets the masquerade bit for this kind of frontend, if any. */
export function masqueradeRule(kind: FrontendKind, context: PickerContext): string | undefined {
  const setMark = `meta mark set meta mark | ${markHex(context.options.masqueradeBit)}`;
  if (kind === 'local') return undefined;
  if (kind === 'external' || context.options.masqueradeAll) return setMark;
  const cidrs = context.options.clusterCIDRs;
  if (cidrs.length === 0) return undefined;
  return `${context.terms.keyword} saddr != { ${cidrs.join(', ')} } ${setMark}`;
}

/** `meta l4proto tcp dnat to 10.1.0.1:80` — one endpoint, written out. */
export function dnatToEndpoint(
  servicePort: ServicePortState,
  endpoint: Endpoint,
  terms: FamilyTerms,
): string {
  return `meta l4proto ${protocolName(servicePort.protocol)} dnat to ${terms.hostPort(endpoint.ip, endpoint.port)}`;
}

/** `10.1.0.1 . 80`, an endpoint as map data. */
export function endpointData(endpoint: Endpoint): string {
  return `${endpoint.ip} . ${endpoint.port}`;
}

/**
 * nftables mode: one shared pick chain per (kind, endpoint count) draws `numgen random mod N` and
 * looks the endpoint up in a map keyed by frontend . protocol . port . index. The index lives only
 * in the lookup key, so no packet mark (and so not the masquerade bit) is ever overwritten.
 */
export function randomPicker(context: PickerContext): EndpointPicker {
  const { keyword } = context.terms;
  const sharedChain = (name: string, kind: FrontendKind, lookup: string): NftChain => {
    const masquerade = masqueradeRule(kind, context);
    return {
      name,
      rules: [...(masquerade ? [masquerade] : []), `meta l4proto { tcp, udp, sctp } dnat to ${lookup}`],
    };
  };
  return {
    pick({ servicePort, kind, endpoints, frontend }) {
      const count = endpoints.length;
      const proto = protocolName(servicePort.protocol);
      if ('ip' in frontend) {
        const name = `${kind}-pick-${count}`;
        const lookup = `${keyword} daddr . meta l4proto . th dport . numgen random mod ${count} map @service-endpoints`;
        return {
          verdict: `goto ${name}`,
          elements: endpoints.map((endpoint, index) => ({
            map: 'service-endpoints',
            key: `${frontend.ip} . ${proto} . ${servicePort.port} . ${index}`,
            value: endpointData(endpoint),
          })),
          chains: [],
          sharedChains: [sharedChain(name, kind, lookup)],
        };
      }
      const name = `nodeport-${kind}-pick-${count}`;
      const lookup = `meta l4proto . th dport . numgen random mod ${count} map @nodeport-endpoints`;
      return {
        verdict: `goto ${name}`,
        elements: endpoints.map((endpoint, index) => ({
          map: 'nodeport-endpoints',
          key: `${proto} . ${frontend.nodePort} . ${index}`,
          value: endpointData(endpoint),
        })),
        chains: [],
        sharedChains: [sharedChain(name, kind, lookup)],
      };
    },
  };
}
