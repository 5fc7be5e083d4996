import { connect, type Socket } from 'node:net';
import type { Backend } from './backend.js';

/**
 * Joins a client connection to a backend: bytes flow both ways with back-pressure (pipe), a FIN
 * from either side is passed on as a FIN (half-close), and an error or reset on either side
 * destroys the other. Keeps the backend's IPVS-style counters: active until the first FIN,
 * inactive until both sides are closed.
 */
export function spliceToBackend(client: Socket, backend: Backend): void {
  const upstream = connect({ host: backend.endpoint.ip, port: backend.endpoint.port, allowHalfOpen: true });
  upstream.setNoDelay(true);
  client.setNoDelay(true);
  backend.connections++;
  backend.activeConns++;
  let state: 'active' | 'inactive' | 'closed' = 'active';
  let openSides = 2;

  const becomeInactive = () => {
    if (state !== 'active') return;
    state = 'inactive';
    backend.activeConns--;
    backend.inactiveConns++;
  };
  const sideClosed = () => {
    if (--openSides > 0) return;
    becomeInactive();
    state = 'closed';
    backend.inactiveConns--;
    backend.bytesFromClients += client.bytesRead;
    backend.bytesToClients += client.bytesWritten;
  };

  upstream.on('error', () => {
    if (upstream.connecting) backend.failedConnects++;
    client.destroy();
  });
  client.on('error', () => upstream.destroy());
  client.on('end', becomeInactive);
  upstream.on('end', becomeInactive);
  client.on('close', () => {
    upstream.destroy();
    sideClosed();
  });
  upstream.on('close', () => {
    // Once the backend is gone, the client gets what was already written and then a FIN.
    if (!client.destroyed) client.end();
    sideClosed();
  });
  client.pipe(upstream);
  upstream.pipe(client);
}
