import { connect, type Socket } from 'node:net';
import type { ConnectionInfo } from '../../schedulers/scheduler.js';
import type { Backend } from './backend.js';
import type { BackendPool } from './backend-pool.js';
import type { ConnectionTable } from './connection-table.js';
import { resetConnection } from './socket-reset.js';
import { spliceTcp } from './tcp-splice.js';

export interface TcpForwarderOptions {
  readonly table: ConnectionTable;
  /** A connect not done after this long counts as failed (IPVS has no such limit; SYN retries do). */
  readonly connectTimeoutMs: number;
  /** How many backends one client connection may try before it is reset. */
  readonly maxConnectAttempts: number;
}

/** Shared by every connection whose first connect works (most), so they allocate no set. */
const noneTried: Set<Backend> = new Set();

/** Connect errors that say the backend, not this process, is at fault: try another one. */
const backendFaults = new Set(['ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET']);

/**
 * Sends one accepted client connection to a backend of `pool`. The client stays paused (its bytes
 * wait in the kernel) until a backend accepted the upstream connection; a refused or timed-out
 * connect holds that backend back and tries the next pick, up to `maxConnectAttempts`. With no
 * backend at all the client is reset at once, as kube-proxy's REJECT rule does.
 */
export function forwardTcp(
  client: Socket,
  info: ConnectionInfo,
  pool: BackendPool,
  options: TcpForwarderOptions,
): void {
  let upstream: Socket | undefined;
  let clientGone = false;
  let tried: Set<Backend> = noneTried;
  const onClientGone = () => {
    clientGone = true;
    upstream?.destroy();
  };
  client.on('error', onClientGone);
  client.on('close', onClientGone);

  const attempt = () => {
    const backend = pool.pick(info, tried);
    if (!backend) {
      resetConnection(client);
      return;
    }
    const entry = options.table.openTcp(backend);
    const socket = connect({
      host: backend.endpoint.ip,
      port: backend.endpoint.port,
      allowHalfOpen: true,
      noDelay: true,
    });
    upstream = socket;
    const failed = (error: NodeJS.ErrnoException | undefined) => {
      socket.destroy();
      entry.closed();
      if (clientGone) return;
      const backendFault = error === undefined || backendFaults.has(error.code ?? '');
      if (backendFault) {
        pool.connectFailed(backend, info.clientIP);
        if (tried === noneTried) tried = new Set();
        tried.add(backend);
      }
      if (backendFault && tried.size < options.maxConnectAttempts) attempt();
      else resetConnection(client);
    };
    const onTimeout = () => failed(undefined);
    socket.setTimeout(options.connectTimeoutMs, onTimeout);
    // Closed before it connected (the client went away): the entry ends with it.
    const closedEarly = () => entry.closed();
    socket.once('error', failed);
    socket.once('close', closedEarly);
    socket.once('connect', () => {
      socket.setTimeout(0);
      socket.off('timeout', onTimeout);
      socket.off('error', failed);
      socket.off('close', closedEarly);
      if (clientGone) {
        socket.destroy();
        entry.closed();
        return;
      }
      client.off('error', onClientGone);
      client.off('close', onClientGone);
      entry.established();
      spliceTcp(client, socket, entry, options.table.timeouts);
    });
  };
  attempt();
}
