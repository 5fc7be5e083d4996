/**
 * The one connection interface the load generator's slots drive: plain http over raw TCP handles
 * (src/net/raw-tcp.ts, no `net.Socket` per connection), https over `tls.connect`
 * (tls-connection.ts). A connection reports to its slot through `ConnectionEvents`, and reports
 * nothing more once the slot has closed it, so a slot never sees a stale connection's events.
 */
import { type ConnectTarget, connectTcp, type ReadEvents, type TcpConnection } from '../../net/raw-tcp.js';

/** Where a failure happened: ab tells a failed connect from a failed read from anything else. */
export type FailurePhase = 'connect' | 'read' | 'other';

export interface ConnectionEvents {
  /** Connected (and, for TLS, the handshake done): the request may be written. */
  connected(): void;
  data(chunk: Uint8Array): void;
  /** The peer sent its FIN. */
  end(): void;
  /** The connection failed with an errno name (ECONNREFUSED, ECONNRESET…); it is closed already. */
  failed(code: string, phase: FailurePhase): void;
}

export interface LoadConnection {
  write(bytes: Uint8Array): void;
  /** Closes the connection; its events stop at once. */
  close(): void;
}

/** Opens a connection to `target`, reporting to `events`. */
export type Connector = (target: ConnectTarget, events: ConnectionEvents) => LoadConnection;

/** A plain TCP connection on a raw handle. */
export const connectPlain: Connector = (target, events) => new PlainConnection(target, events);

/** Its own read events' receiver (methods, not closures: one connection per request). */
class PlainConnection implements LoadConnection, ReadEvents {
  private tcp?: TcpConnection;
  private closed = false;
  private readonly attempt: { cancel(): void };

  constructor(
    target: ConnectTarget,
    private readonly events: ConnectionEvents,
  ) {
    this.attempt = connectTcp(target, (result) => this.connected(result));
  }

  write(bytes: Uint8Array): void {
    const tcp = this.tcp;
    if (!tcp || this.closed) return;
    // TcpConnection closes itself on a failed write; a request is one small write, so a failure
    // shows here at once, or when libuv finishes a write it had to queue.
    if (tcp.write(bytes, this.onFlushed)) this.onFlushed();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.tcp) this.tcp.close();
    else this.attempt.cancel();
  }

  private connected(result: TcpConnection | string): void {
    if (this.closed) {
      if (typeof result !== 'string') result.close();
      return;
    }
    if (typeof result === 'string') {
      this.closed = true;
      this.events.failed(result, 'connect');
      return;
    }
    this.tcp = result;
    result.read(this);
    this.events.connected();
  }

  private readonly onFlushed = (): void => {
    if (this.closed || !this.tcp?.closed) return;
    this.closed = true;
    this.events.failed('EPIPE', 'other');
  };

  data(chunk: Uint8Array): void {
    if (!this.closed) this.events.data(chunk);
  }

  end(): void {
    if (!this.closed) this.events.end();
  }

  failed(code: string): void {
    if (this.closed) return;
    this.closed = true;
    this.events.failed(code, 'read');
  }
}
