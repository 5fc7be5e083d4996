import type { BackendPool } from './backend-pool.js';
import type { ConnectionTable } from './connection-table.js';

export interface ListenAddress {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
}

/**
 * What a frontend forwards to; the service port's proxy swaps `admits` when a sync changes the
 * source ranges, and keeps `pool` for the frontend's life.
 */
export interface FrontendRoute {
  readonly pool: BackendPool;
  /** Whether a client address may use this frontend (loadBalancerSourceRanges). */
  admits: (clientIP: string) => boolean;
  /** False when `admits` lets everyone in, so the client address need not be looked up. */
  restricted: boolean;
  /** Connections or datagrams turned away by `admits`. */
  refused: number;
}

export interface ForwardingOptions {
  /** Counts the connections and gives up a connect not done in time (its connectTimeoutMs). */
  readonly table: ConnectionTable;
  /** How many backends one client connection may try before it is reset. */
  readonly maxConnectAttempts: number;
}

/** A TCP listener or a UDP socket answering for one frontend of one service port. */
export interface FrontendListener {
  /** Starts listening; rejects with KPROXY_E_PORT_IN_USE when the address is taken. */
  listen(): Promise<ListenAddress>;
  /**
   * Stops taking new connections (or flows). Open TCP connections run on until they close unless
   * `dropConnections`; UDP flows always end with the socket.
   */
  close(dropConnections: boolean): Promise<void>;
}
