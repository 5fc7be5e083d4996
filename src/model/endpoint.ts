/** One backend of a Service port, as read from an EndpointSlice. */
export interface Endpoint {
  readonly ip: string;
  readonly port: number;
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
  readonly nodeName?: string;
  readonly zone?: string;
  /** Zones from `hints.forZones`, when the EndpointSlice controller set topology hints. */
  readonly zoneHints?: readonly string[];
  /** Nodes from `hints.forNodes` (trafficDistribution PreferSameNode). */
  readonly nodeHints?: readonly string[];
  /** The pod behind the address (`targetRef.name`), for reports. */
  readonly podName?: string;
  /** Whether the endpoint runs on this node (its nodeName is the proxy's node name). */
  readonly isLocal: boolean;
}

/** `ip:port`, bracketed for IPv6 — the key that names an endpoint everywhere. */
export function endpointAddress(endpoint: Pick<Endpoint, 'ip' | 'port'>): string {
  return endpoint.ip.includes(':') ? `[${endpoint.ip}]:${endpoint.port}` : `${endpoint.ip}:${endpoint.port}`;
}
