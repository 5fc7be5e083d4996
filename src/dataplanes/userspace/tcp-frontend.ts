import { createServer, type Server } from 'node:net';
import { listenError } from '../../errors.js';
import { log } from '../../log.js';
import { acceptTcp, type TcpConnection } from '../../net/raw-tcp.js';
import type { ConnectionInfo } from '../../schedulers/scheduler.js';
import type {
  ForwardingOptions,
  FrontendListener,
  FrontendRoute,
  ListenAddress,
} from './frontend-listener.js';
import { forwardTcp } from './tcp-forwarder.js';

/**
 * What a scheduler may look at, read lazily: the client's address costs a getpeername() call,
 * which rr, lc and most others never need. The service address is the frontend's own.
 */
class AcceptedConnection implements ConnectionInfo {
  private peer: { address: string; port: number } | undefined;

  constructor(
    private readonly client: TcpConnection,
    private readonly frontend: ListenAddress,
  ) {}

  get clientIP(): string {
    this.peer ??= this.client.peer();
    return this.peer.address;
  }

  get clientPort(): number {
    this.peer ??= this.client.peer();
    return this.peer.port;
  }

  get serviceIP(): string {
    return this.frontend.host;
  }

  get servicePort(): number {
    return this.frontend.port;
  }
}

/** Errors accept() raises when the process or the system is out of descriptors. */
const outOfDescriptors = new Set(['EMFILE', 'ENFILE']);

/**
 * A TCP listener for one frontend: each accepted connection is checked against the source
 * ranges and forwarded to the pick of the route's pool. The listening socket is a `net.Server`
 * (its errors, its sharing between worker processes); the accepted connections are taken as
 * `TcpConnection`s (raw-tcp.ts), not read until their backend is connected.
 */
export class TcpFrontend implements FrontendListener {
  private readonly server: Server;
  private lastDescriptorWarning = 0;
  /** Open client connections, so that cleanup can end them. */
  private readonly clients = new Set<TcpConnection>();
  /** accept() failures for want of descriptors (the kernel's backlog holds or drops those clients). */
  acceptErrors = 0;

  constructor(
    private address: ListenAddress,
    private readonly route: FrontendRoute,
    private readonly forwarding: ForwardingOptions,
    private readonly purpose: string,
  ) {
    this.server = createServer();
  }

  listen(): Promise<ListenAddress> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error) =>
        reject(listenError(error, this.address.host, this.address.port, this.purpose));
      this.server.once('error', onError);
      this.server.listen({ host: this.address.host, port: this.address.port, backlog: 4096 }, () => {
        this.server.off('error', onError);
        acceptTcp(
          this.server,
          (client) => this.accept(client),
          (code) => this.acceptFailed(code),
        );
        const bound = this.server.address();
        this.address = { host: this.address.host, port: typeof bound === 'object' && bound ? bound.port : 0 };
        resolve(this.address);
      });
    });
  }

  close(dropConnections: boolean): Promise<void> {
    // server.close() frees the address at once; its callback would wait for every connection.
    this.server.close();
    // The splice resets the upstream side of a client closed before its connection ended.
    if (dropConnections) for (const client of this.clients) client.close();
    return Promise.resolve();
  }

  private accept(client: TcpConnection): void {
    this.clients.add(client);
    client.onClose(() => this.clients.delete(client));
    const info = new AcceptedConnection(client, this.address);
    if (this.route.restricted && !this.route.admits(info.clientIP)) {
      this.route.refused++;
      client.reset();
      return;
    }
    forwardTcp(client, info, this.route.pool, this.forwarding);
  }

  /**
   * Out of descriptors: libuv has already shed the connections it could not take, so the loop
   * does not spin; we keep serving the open ones and accept again as descriptors free up.
   */
  private acceptFailed(code: string): void {
    this.acceptErrors++;
    const now = Date.now();
    if (now - this.lastDescriptorWarning < 1000) return;
    this.lastDescriptorWarning = now;
    const reason = outOfDescriptors.has(code) ? 'out of file descriptors' : code;
    log.warning('tcp-frontend.ts', 'Accept failed; open connections carry on', {
      frontend: this.purpose,
      reason,
      failures: this.acceptErrors,
    });
  }
}
