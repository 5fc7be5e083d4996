import { createServer, type Server, type Socket } from 'node:net';
import { listenError } from '../../errors.js';
import { log } from '../../log.js';
import type { ConnectionInfo } from '../../schedulers/scheduler.js';
import type {
  ForwardingOptions,
  FrontendListener,
  FrontendRoute,
  ListenAddress,
} from './frontend-listener.js';
import { resetConnection } from './socket-reset.js';
import { forwardTcp } from './tcp-forwarder.js';

/**
 * What a scheduler may look at, read lazily: the client's address costs a getpeername() call,
 * which rr, lc and most others never need. The service address is the frontend's own.
 */
class AcceptedConnection implements ConnectionInfo {
  private peer: { address: string; port: number } | undefined;

  constructor(
    private readonly client: Socket,
    private readonly frontend: ListenAddress,
  ) {}

  get clientIP(): string {
    this.peer ??= { address: this.client.remoteAddress ?? '', port: this.client.remotePort ?? 0 };
    return this.peer.address;
  }

  get clientPort(): number {
    this.peer ??= { address: this.client.remoteAddress ?? '', port: this.client.remotePort ?? 0 };
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
 * ranges and forwarded to the pick of the route's pool. Accepted sockets start paused, so a
 * client's bytes wait in the kernel until its backend is connected.
 */
export class TcpFrontend implements FrontendListener {
  private readonly server: Server;
  private lastDescriptorWarning = 0;
  /** Open client connections, so that cleanup can end them. */
  private readonly clients = new Set<Socket>();
  /** accept() failures for want of descriptors (the kernel's backlog holds or drops those clients). */
  acceptErrors = 0;

  constructor(
    private address: ListenAddress,
    private readonly route: FrontendRoute,
    private readonly forwarding: ForwardingOptions,
    private readonly purpose: string,
  ) {
    this.server = createServer(
      { allowHalfOpen: true, pauseOnConnect: true, noDelay: true, keepAlive: false },
      (client) => this.accept(client),
    );
  }

  listen(): Promise<ListenAddress> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error) =>
        reject(listenError(error, this.address.host, this.address.port, this.purpose));
      this.server.once('error', onError);
      this.server.listen({ host: this.address.host, port: this.address.port, backlog: 4096 }, () => {
        this.server.off('error', onError);
        this.server.on('error', (error) => this.acceptFailed(error));
        const bound = this.server.address();
        this.address = { host: this.address.host, port: typeof bound === 'object' && bound ? bound.port : 0 };
        resolve(this.address);
      });
    });
  }

  close(dropConnections: boolean): Promise<void> {
    // server.close() frees the address at once; its callback would wait for every connection.
    this.server.close();
    // An error (not a clean close) makes the splice reset the upstream side too.
    if (dropConnections) for (const client of this.clients) client.destroy(new Error('data plane cleanup'));
    return Promise.resolve();
  }

  private accept(client: Socket): void {
    this.clients.add(client);
    client.once('close', () => this.clients.delete(client));
    const info = new AcceptedConnection(client, this.address);
    if (this.route.restricted && !this.route.admits(info.clientIP)) {
      this.route.refused++;
      resetConnection(client);
      return;
    }
    forwardTcp(client, info, this.route.pool, this.forwarding);
  }

  /**
   * Out of descriptors: libuv has already shed the connections it could not take, so the loop
   * does not spin; we keep serving the open ones and accept again as descriptors free up.
   */
  private acceptFailed(error: NodeJS.ErrnoException): void {
    this.acceptErrors++;
    const now = Date.now();
    if (now - this.lastDescriptorWarning < 1000) return;
    this.lastDescriptorWarning = now;
    const reason = outOfDescriptors.has(error.code ?? '') ? 'out of file descriptors' : String(error);
    log.warning('tcp-frontend.ts', 'Accept failed; open connections carry on', {
      frontend: this.purpose,
      reason,
      failures: this.acceptErrors,
    });
  }
}
