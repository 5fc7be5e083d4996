import type { Endpoint } from '../../model/endpoint.js';
import { endpointAddress } from '../../model/endpoint.js';
import type { Destination } from '../../schedulers/scheduler.js';

/**
 * A backend of one service port in the userspace data plane: an IPVS-style destination whose
 * counters the connection table keeps as connections open and close, plus totals for the lab and
 * metrics. `overloaded` is set while the backend is held back after a failed connect.
 */
export interface Backend extends Destination {
  readonly endpoint: Endpoint;
  /** New connections (TCP) or flows (UDP) scheduled here since the backend appeared. */
  connections: number;
  bytesFromClients: number;
  bytesToClients: number;
  /** Connects refused, timed out or unreachable. */
  failedConnects: number;
  /** Until when (ms since the epoch) the backend takes no new connections after a failure. */
  heldBackUntil: number;
  /** False once a sync removed the endpoint; its open connections run on. */
  current: boolean;
}

/** What metrics and the lab read about one backend. */
export interface BackendCounters {
  readonly endpoint: string;
  readonly weight: number;
  readonly connections: number;
  readonly activeConns: number;
  readonly inactiveConns: number;
  readonly bytesFromClients: number;
  readonly bytesToClients: number;
  readonly failedConnects: number;
}

/** IPVS gives a ready endpoint weight 1; a terminating one drains with weight 0. */
export function endpointWeight(endpoint: Endpoint): number {
  return endpoint.ready ? 1 : 0;
}

export function newBackend(endpoint: Endpoint): Backend {
  return {
    id: endpointAddress(endpoint),
    endpoint,
    weight: endpointWeight(endpoint),
    activeConns: 0,
    inactiveConns: 0,
    connections: 0,
    bytesFromClients: 0,
    bytesToClients: 0,
    failedConnects: 0,
    heldBackUntil: 0,
    current: true,
  };
}

export function backendCounters(backend: Backend): BackendCounters {
  return {
    endpoint: backend.id,
    weight: backend.weight,
    connections: backend.connections,
    activeConns: backend.activeConns,
    inactiveConns: backend.inactiveConns,
    bytesFromClients: backend.bytesFromClients,
    bytesToClients: backend.bytesToClients,
    failedConnects: backend.failedConnects,
  };
}
