/** https connections of the load generator: `tls.connect` behind the slots' connection interface. */
import { type ConnectionOptions, connect, type TLSSocket } from 'node:tls';
import type { ConnectionEvents, Connector, LoadConnection } from './load-connection.js';

/**
 * A connector opening TLS connections with `options` (the run's shared secure context);
 * `handshaken` sees each socket whose handshake completed, before its request is written.
 */
export function tlsConnector(
  options: ConnectionOptions,
  { keepAlive, handshaken }: { keepAlive: boolean; handshaken: (socket: TLSSocket) => void },
): Connector {
  return ({ host, port, localAddress }, events) => {
    const socket = connect({ ...options, host, port, ...(localAddress ? { localAddress } : {}) });
    // One write per request: Nagle only matters when a kept-alive connection writes again.
    if (keepAlive) socket.setNoDelay(true);
    return new TlsConnection(socket, events, handshaken);
  };
}

class TlsConnection implements LoadConnection {
  private closed = false;
  private connected = false;

  constructor(
    private readonly socket: TLSSocket,
    events: ConnectionEvents,
    handshaken: (socket: TLSSocket) => void,
  ) {
    // As ab measures it, a TLS connection is connected once its handshake is done.
    socket.once('secureConnect', () => {
      this.connected = true;
      if (this.closed) return;
      handshaken(socket);
      events.connected();
    });
    socket.on('data', (chunk: Buffer) => {
      if (!this.closed) events.data(chunk);
    });
    socket.on('end', () => {
      if (!this.closed) events.end();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (this.closed) return;
      this.close();
      const phase = !this.connected ? 'connect' : error.syscall === 'read' ? 'read' : 'other';
      events.failed(error.code ?? 'EIO', phase);
    });
  }

  write(bytes: Uint8Array): void {
    if (!this.closed) this.socket.write(bytes);
  }

  close(): void {
    this.closed = true;
    this.socket.destroy();
  }
}
