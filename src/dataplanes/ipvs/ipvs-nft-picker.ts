/**
 * IPVS schedulers in the kernel without IPVS: each Service gets its own chain per kind of
 * frontend (an IPVS virtual server has its own scheduler state) whose one DNAT rule picks the
 * endpoint the way the IPVS module would, from an inline map:
 * - rr: `numgen inc mod N` — a counter per rule, so exactly 1, 2, …, N, 1, 2, …;
 * - wrr: one full cycle of ip_vs_wrr's sequence as a map over `numgen inc mod cycleLength`;
 * - sh / dh: ip_vs_sh's 256 weighted buckets over `jhash ip saddr` / `jhash ip daddr` mod 256;
 * - mh: ip_vs_mh's Maglev table (4093 slots) over `jhash ip saddr`;
 * - with `sh-port` / `mh-port` (kube-proxy sets mh-port) the hash takes the source port too,
 *   `jhash ip saddr . th sport`, so one client's connections spread over the endpoints. The
 *   fallback flags never get here: ipvs-placement sends them to userspace.
 * jhash is not the kernel's IPVS hash, so a client lands in another bucket than IPVS would put
 * it; what holds is the mapping property: the same client (address, or address and port with a
 * port flag) always reaches the same endpoint, and each endpoint owns the share of buckets IPVS
 * gives it. The seed is fixed per Service, so the mapping survives rule rewrites.
 */
import { createHash } from 'node:crypto';
import { type Endpoint, endpointAddress } from '../../model/endpoint.js';
import { maglevTable, weightedBucketTable, wrrCycle } from '../../schedulers/tables.js';
import {
  type EndpointPicker,
  endpointData,
  masqueradeRule,
  type PickerContext,
  type PickRequest,
} from '../nftables/nft-picker.js';
import { protocolName, safeComment } from '../nftables/nft-terms.js';

/** IPVS gives every kube-proxy real server weight 1. */
const ENDPOINT_WEIGHT = 1;

/** A scheduler nftables runs, with its flags (only the port flags change the rule). */
export interface KernelScheduler {
  readonly scheduler: string;
  readonly flags: readonly string[];
}

/** Where a Service's connections go in ipvs mode: a scheduler in nftables, or a userspace listener. */
export type IpvsTarget =
  | KernelScheduler
  | { readonly userspace: { readonly host: string; readonly port: number } };

export function ipvsSchedulerPicker(
  targetOf: (servicePortId: string) => IpvsTarget,
): (context: PickerContext) => EndpointPicker {
  return (context) => ({
    pick(request) {
      const kind = request.kind;
      const target = targetOf(request.servicePort.id);
      const proto = protocolName(request.servicePort.protocol);
      const masquerade = masqueradeRule(kind, context);
      if ('userspace' in target) {
        const name = `userspace-${request.key}-${kind}`;
        const to = context.terms.hostPort(target.userspace.host, target.userspace.port);
        return {
          verdict: `goto ${name}`,
          elements: [],
          chains: [
            {
              name,
              comment: safeComment(`${request.servicePort.id} userspace`),
              rules: [`meta l4proto ${proto} dnat to ${to}`],
            },
          ],
          sharedChains: [],
        };
      }
      const { scheduler, flags } = target;
      const name = `ipvs-${request.key}-${kind}`;
      const pick = `meta l4proto ${proto} dnat to ${selector(target, request, context)}`;
      const named = flags.length > 0 ? `${scheduler} ${flags.join(',')}` : scheduler;
      return {
        verdict: `goto ${name}`,
        elements: [],
        chains: [
          {
            name,
            comment: safeComment(`${request.servicePort.id} ${named}`),
            rules: [...(masquerade ? [masquerade] : []), pick],
          },
        ],
        sharedChains: [],
      };
    },
  });
}

/** `<draw> map { 0 : ep, 1 : ep, … }` for one scheduler. */
function selector(
  { scheduler, flags }: KernelScheduler,
  request: PickRequest,
  context: PickerContext,
): string {
  const endpoints = request.endpoints;
  const weights = endpoints.map(() => ENDPOINT_WEIGHT);
  const { keyword } = context.terms;
  const seed = `seed 0x${createHash('sha256').update(request.key).digest('hex').slice(0, 8)}`;
  // The protocol is matched before the draw (`meta l4proto …`), so `th sport` is that protocol's.
  const source = flags.includes(`${scheduler}-port`) ? `${keyword} saddr . th sport` : `${keyword} saddr`;
  switch (scheduler) {
    case 'rr':
      return inlineMap(
        `numgen inc mod ${endpoints.length}`,
        endpoints.map((_, i) => i),
        endpoints,
      );
    case 'wrr': {
      const cycle = wrrCycle(weights);
      return inlineMap(`numgen inc mod ${cycle.length}`, cycle, endpoints);
    }
    case 'sh':
    case 'dh': {
      const table = [...weightedBucketTable(scheduler === 'dh' ? endpoints.map(() => 1) : weights)];
      const key = scheduler === 'sh' ? source : `${keyword} daddr`;
      return inlineMap(`jhash ${key} mod ${table.length} ${seed}`, table, endpoints);
    }
    case 'mh': {
      const table = [
        ...maglevTable(endpoints.map((e) => ({ id: endpointAddress(e), weight: ENDPOINT_WEIGHT }))),
      ];
      return inlineMap(`jhash ${source} mod ${table.length} ${seed}`, table, endpoints);
    }
    default:
      throw new Error(`scheduler ${scheduler} cannot run in nftables (ipvs-placement sends it to userspace)`);
  }
}

function inlineMap(draw: string, slots: readonly number[], endpoints: readonly Endpoint[]): string {
  const entries = slots.map((index, slot) => `${slot} : ${endpointData(endpoints[index] as Endpoint)}`);
  return `${draw} map { ${entries.join(', ')} }`;
}
