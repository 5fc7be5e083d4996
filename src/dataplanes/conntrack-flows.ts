import { type Endpoint, endpointAddress } from '../model/endpoint.js';
import type { ProxyState, ServicePortState } from '../model/proxy-state.js';
import type { IPFamily } from '../model/service.js';

/**
 * Which conntrack entries a change of state leaves pointing the wrong way. UDP has no end that
 * would make a client open a new connection: as long as datagrams keep coming from the same
 * source port, the kernel keeps using the entry it made for the first one, and the NAT rules are
 * never consulted again. So, as kube-proxy does after each sync of a kernel data plane:
 * - an endpoint that a frontend no longer reaches (the endpoint went away, or the frontend or
 *   the whole Service port did): entries to that frontend whose reply source is the endpoint;
 * - a frontend that had no endpoints and now has some: entries to it that were never DNATed
 *   (their reply source is the frontend itself), made while nothing answered or before the
 *   rules existed; they would keep the new endpoints out of reach.
 * TCP and SCTP are left alone, as kube-proxy leaves them: their clients see a reset, an abort or
 * a timeout and open a new connection. Endpoints are compared by address and port (an entry
 * DNATed to a port the pod no longer serves is as stale as one to a deleted pod), after traffic
 * policies (a frontend that could reach no endpoint of this node before is "newly active").
 */

/** One `conntrack -D` filter. Absent fields match anything. */
export interface ConntrackFlow {
  readonly servicePortId: string;
  readonly family: IPFamily;
  /** The frontend address the client sent to; absent for a node port (any local address). */
  readonly originalDestination?: string;
  readonly originalDestinationPort: number;
  /** The endpoint the entry was DNATed to (address; port below). */
  readonly replySource?: string;
  /**
   * The port the reply comes from: the endpoint's, or a node port's own number for entries never
   * DNATed (an endpoint whose target port is that number too would lose its entries, and only
   * get new ones).
   */
  readonly replySourcePort?: number;
}

/** A place clients send to: an address and port, or a node port on any local address. */
interface Frontend {
  readonly key: string;
  readonly family: IPFamily;
  readonly address?: string;
  readonly port: number;
}

function familyOf(ip: string): IPFamily {
  return ip.includes(':') ? 'IPv6' : 'IPv4';
}

function frontendsOf(port: ServicePortState): Frontend[] {
  if (port.protocol !== 'UDP') return [];
  const addressed = [...port.clusterIPs, ...port.externalIPs, ...port.loadBalancerIPs].map(
    (address): Frontend => ({
      key: `${address} ${port.port}`,
      family: familyOf(address),
      address,
      port: port.port,
    }),
  );
  if (!port.nodePort) return addressed;
  const nodePorts = (['IPv4', 'IPv6'] as const).map(
    (family): Frontend => ({
      key: `${family} *:${port.nodePort}`,
      family,
      port: port.nodePort as number,
    }),
  );
  return [...addressed, ...nodePorts];
}

/** A frontend with the endpoints (by `ip:port`, of its family) it reaches, and the port that owns it. */
interface FrontendUse {
  readonly frontend: Frontend;
  readonly servicePortId: string;
  readonly endpoints: Map<string, Endpoint>;
}

/** The frontends of the service ports `ids` in `state`, each with the endpoints it reaches. */
function frontendTable(state: ProxyState | undefined, ids: ReadonlySet<string>): Map<string, FrontendUse> {
  const table = new Map<string, FrontendUse>();
  for (const id of ids) {
    const port = state?.servicePorts.get(id);
    if (!port) continue;
    for (const frontend of frontendsOf(port)) {
      const use = table.get(frontend.key) ?? { frontend, servicePortId: id, endpoints: new Map() };
      for (const endpoint of port.allReachableEndpoints) {
        if (familyOf(endpoint.ip) === frontend.family) use.endpoints.set(endpointAddress(endpoint), endpoint);
      }
      table.set(frontend.key, use);
    }
  }
  return table;
}

function flowTo(use: FrontendUse, reply: Partial<ConntrackFlow>): ConntrackFlow {
  const { frontend } = use;
  return {
    servicePortId: use.servicePortId,
    family: frontend.family,
    ...(frontend.address === undefined ? {} : { originalDestination: frontend.address }),
    originalDestinationPort: frontend.port,
    ...reply,
  };
}

/** Service ports that differ between the two states (snapshots share unchanged ports' objects). */
function changedPorts(before: ProxyState | undefined, after: ProxyState): Set<string> {
  const ids = new Set<string>();
  for (const [id, port] of before?.servicePorts ?? []) if (after.servicePorts.get(id) !== port) ids.add(id);
  for (const [id, port] of after.servicePorts) if (before?.servicePorts.get(id) !== port) ids.add(id);
  return ids;
}

/**
 * The conntrack entries to delete once `after` is programmed in place of `before` (undefined
 * before the first sync: then only never-DNATed entries can be known to be stale).
 */
export function staleConntrackFlows(before: ProxyState | undefined, after: ProxyState): ConntrackFlow[] {
  const ids = changedPorts(before, after);
  const earlier = frontendTable(before, ids);
  const now = frontendTable(after, ids);
  const flows: ConntrackFlow[] = [];
  for (const [key, was] of earlier) {
    const still = now.get(key)?.endpoints;
    for (const [address, endpoint] of was.endpoints) {
      if (!still?.has(address))
        flows.push(flowTo(was, { replySource: endpoint.ip, replySourcePort: endpoint.port }));
    }
  }
  for (const [key, use] of now) {
    if (use.endpoints.size === 0 || (earlier.get(key)?.endpoints.size ?? 0) > 0) continue;
    const { address, port } = use.frontend;
    flows.push(
      address === undefined ? flowTo(use, { replySourcePort: port }) : flowTo(use, { replySource: address }),
    );
  }
  return flows;
}

/** The `conntrack` arguments that delete the entries `flow` describes. */
export function conntrackDeleteArgs(flow: ConntrackFlow): string[] {
  const args = ['-D', '-f', flow.family === 'IPv6' ? 'ipv6' : 'ipv4', '-p', 'udp'];
  if (flow.originalDestination !== undefined) args.push('--orig-dst', flow.originalDestination);
  args.push('--orig-port-dst', String(flow.originalDestinationPort));
  if (flow.replySource !== undefined) args.push('--reply-src', flow.replySource);
  if (flow.replySourcePort !== undefined) args.push('--reply-port-src', String(flow.replySourcePort));
  return args;
}
