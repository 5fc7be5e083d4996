import { connectTcp, type TcpConnection } from '../../net/raw-tcp.js';
import type { ConnectionInfo } from '../../schedulers/scheduler.js';
import type { Backend } from './backend.js';
import type { BackendPool } from './backend-pool.js';
import type { ForwardingOptions } from './frontend-listener.js';
import { spliceTcp } from './tcp-splice.js';

/** Shared by every connection whose first connect works (most), so they allocate no set. */
const noneTried: Set<Backend> = new Set();

/** Connect errors that say the backend, not this process, is at fault: try another one. */
const backendFaults = new Set(['ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET']);

/**
 * Sends one accepted client connection to a backend of `pool`. The client is not read (its bytes
 * wait in the kernel) until a backend accepted the upstream connection; a refused or timed-out
 * connect holds that backend back and tries the next pick, up to `maxConnectAttempts`. With no
 * backend at all the client is reset at once, as kube-proxy's REJECT rule does.
 */
export function forwardTcp(
  client: TcpConnection,
  info: ConnectionInfo,
  pool: BackendPool,
  options: ForwardingOptions,
): void {
  let tried: Set<Backend> = noneTried;
  let pending: { cancel(): void } | undefined;
  // The data plane may drop the client (cleanup) while a connect is under way.
  client.onClose(() => pending?.cancel());

  const attempt = () => {
    const backend = pool.pick(info, tried);
    if (!backend) {
      client.reset();
      return;
    }
    const entry = options.table.openTcp(backend);
    entry.onExpire = () => pending?.cancel();
    pending = connectTcp({ host: backend.endpoint.ip, port: backend.endpoint.port }, (result) => {
      pending = undefined;
      if (typeof result !== 'string') {
        if (client.closed) {
          result.close();
          entry.closed();
          return;
        }
        entry.established();
        spliceTcp(client, result, entry);
        return;
      }
      entry.closed();
      if (client.closed) return;
      // A connect that timed out is cancelled by us: the backend did not answer.
      const backendFault = result === 'ECANCELED' || backendFaults.has(result);
      if (backendFault) {
        pool.connectFailed(backend, info.clientIP);
        if (tried === noneTried) tried = new Set();
        tried.add(backend);
      }
      if (backendFault && tried.size < options.maxConnectAttempts) attempt();
      else client.reset();
    });
  };
  attempt();
}
