import type { Endpoint } from '../../model/endpoint.js';
import { endpointAddress } from '../../model/endpoint.js';
import type { Destination } from '../../schedulers/scheduler.js';

/**
 * A backend of one service port in the userspace data plane: an IPVS-style destination whose
 * counters the proxy keeps as connections open and close, plus totals for the lab and metrics.
 */
export interface Backend extends Destination {
  readonly endpoint: Endpoint;
  /** New connections scheduled here since the backend appeared. */
  connections: number;
  bytesFromClients: number;
  bytesToClients: number;
  failedConnects: number;
}

export function newBackend(endpoint: Endpoint): Backend {
  return {
    id: endpointAddress(endpoint),
    endpoint,
    // A terminating endpoint keeps its open connections but takes no new ones.
    weight: endpoint.ready ? 1 : 0,
    activeConns: 0,
    inactiveConns: 0,
    connections: 0,
    bytesFromClients: 0,
    bytesToClients: 0,
    failedConnects: 0,
  };
}
