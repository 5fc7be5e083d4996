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

/** The endpoints (`ip:port`) traffic of `family` may reach. */
function endpointsOf(port: ServicePortState | undefined, family: IPFamily): Map<string, Endpoint> {
  const endpoints = new Map<string, Endpoint>();
  for (const endpoint of port?.allReachableEndpoints ?? []) {
    if (familyOf(endpoint.ip) === family) endpoints.set(endpointAddress(endpoint), endpoint);
  }
  return endpoints;
}

function flowTo(id: string, frontend: Frontend, reply: Partial<ConntrackFlow>): ConntrackFlow {
  return {
    servicePortId: id,
    family: frontend.family,
    ...(frontend.address === undefined ? {} : { originalDestination: frontend.address }),
    originalDestinationPort: frontend.port,
    ...reply,
  };
}

/** Entries DNATed to endpoints that `before`'s frontends no longer reach in `after`. */
function flowsToGoneEndpoints(
  id: string,
  before: ServicePortState,
  after: ServicePortState | undefined,
): ConntrackFlow[] {
  const kept = new Set(after ? frontendsOf(after).map((frontend) => frontend.key) : []);
  return frontendsOf(before).flatMap((frontend) => {
    const still = kept.has(frontend.key) ? endpointsOf(after, frontend.family) : new Map();
    return [...endpointsOf(before, frontend.family)]
      .filter(([address]) => !still.has(address))
      .map(([, endpoint]) =>
        flowTo(id, frontend, { replySource: endpoint.ip, replySourcePort: endpoint.port }),
      );
  });
}

/** Entries never DNATed, to frontends of `after` that had no endpoints in `before`. */
function flowsNeverDnated(
  id: string,
  before: ServicePortState | undefined,
  after: ServicePortState,
): ConntrackFlow[] {
  const earlier = new Set(before ? frontendsOf(before).map((frontend) => frontend.key) : []);
  return frontendsOf(after)
    .filter((frontend) => endpointsOf(after, frontend.family).size > 0)
    .filter((frontend) => !earlier.has(frontend.key) || endpointsOf(before, frontend.family).size === 0)
    .map((frontend) =>
      frontend.address === undefined
        ? flowTo(id, frontend, { replySourcePort: frontend.port })
        : flowTo(id, frontend, { replySource: frontend.address }),
    );
}

/**
 * The conntrack entries to delete once `after` is programmed in place of `before` (undefined
 * before the first sync: then only never-DNATed entries can be known to be stale).
 */
export function staleConntrackFlows(before: ProxyState | undefined, after: ProxyState): ConntrackFlow[] {
  const flows = new Map<string, ConntrackFlow>();
  const add = (found: ConntrackFlow[]) => {
    for (const flow of found) flows.set(conntrackDeleteArgs(flow).join(' '), flow);
  };
  for (const [id, old] of before?.servicePorts ?? []) {
    const current = after.servicePorts.get(id);
    if (current !== old) add(flowsToGoneEndpoints(id, old, current));
  }
  for (const [id, current] of after.servicePorts) {
    const old = before?.servicePorts.get(id);
    if (current !== old) add(flowsNeverDnated(id, old, current));
  }
  return [...flows.values()];
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
