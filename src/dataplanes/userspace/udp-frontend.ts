import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { KproxyError, listenError } from '../../errors.js';
import type { Backend } from './backend.js';
import type { ConnectionTable } from './connection-table.js';
import type { FrontendListener, FrontendRoute, ListenAddress } from './frontend-listener.js';

interface UdpFlow {
  readonly backend: Backend;
  readonly upstream: Socket;
  readonly idle: NodeJS.Timeout;
  /** Datagrams that arrived before the upstream socket was connected (a few at most). */
  pending: Buffer[] | undefined;
}

/** Datagrams kept per flow while its upstream socket connects; more are dropped, as a full queue would. */
const MAX_PENDING = 64;
const noBackends: ReadonlySet<Backend> = new Set();

/**
 * A UDP frontend: datagrams are grouped into flows by client address and port; each flow has its
 * own connected socket to the backend picked for its first datagram, replies on it go back to the
 * client from the frontend's address, and a flow idle for udpTimeout is closed. A backend that
 * answers with ICMP port unreachable is held back and the flow closed, so the client's next
 * datagram is scheduled afresh.
 */
export class UdpFrontend implements FrontendListener {
  private readonly socket: Socket;
  private readonly flows = new Map<string, UdpFlow>();

  constructor(
    private readonly address: ListenAddress,
    private readonly route: FrontendRoute,
    private readonly table: ConnectionTable,
    private readonly purpose: string,
  ) {
    this.socket = createSocket({ type: isIPv6(address.host) ? 'udp6' : 'udp4' });
    this.socket.on('message', (message, client) => this.receive(message, client));
  }

  listen(): Promise<ListenAddress> {
    return new Promise((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) => {
        const failure = listenError(error, this.address.host, this.address.port, this.purpose);
        reject(
          new KproxyError(failure.code, failure.message.replace('listen tcp', 'listen udp'), {
            hint: failure.hint?.replace('-ltnp', '-lunp'),
            cause: error,
          }),
        );
      };
      this.socket.once('error', onError);
      this.socket.bind({ address: this.address.host, port: this.address.port }, () => {
        this.socket.off('error', onError);
        this.socket.on('error', () => {});
        resolve({ host: this.address.host, port: this.socket.address().port });
      });
    });
  }

  close(_dropConnections: boolean): Promise<void> {
    for (const key of [...this.flows.keys()]) this.closeFlow(key);
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  get openFlows(): number {
    return this.flows.size;
  }

  private receive(message: Buffer, client: RemoteInfo): void {
    const key = `${client.address}:${client.port}`;
    const flow = this.flows.get(key) ?? this.openFlow(key, client);
    if (!flow) return;
    flow.idle.refresh();
    flow.backend.bytesFromClients += message.length;
    if (!flow.pending) flow.upstream.send(message);
    else if (flow.pending.length < MAX_PENDING) flow.pending.push(message);
  }

  private openFlow(key: string, client: RemoteInfo): UdpFlow | undefined {
    if (this.route.restricted && !this.route.admits(client.address)) {
      this.route.refused++;
      return undefined;
    }
    const info = {
      clientIP: client.address,
      clientPort: client.port,
      serviceIP: this.address.host,
      servicePort: this.address.port,
    };
    const backend = this.route.pool.pick(info, noBackends);
    if (!backend) return undefined;
    this.table.openUdpFlow(backend);
    const upstream = createSocket({ type: isIPv6(backend.endpoint.ip) ? 'udp6' : 'udp4' });
    const idle = setTimeout(() => this.closeFlow(key), this.table.timeouts.udpTimeout).unref();
    const flow: UdpFlow = { backend, upstream, idle, pending: [] };
    this.flows.set(key, flow);
    upstream.on('message', (reply) => {
      flow.idle.refresh();
      backend.bytesToClients += reply.length;
      this.socket.send(reply, client.port, client.address);
    });
    upstream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNREFUSED') this.route.pool.connectFailed(backend, client.address);
      this.closeFlow(key);
    });
    upstream.connect(backend.endpoint.port, backend.endpoint.ip, () => {
      const queued = flow.pending ?? [];
      flow.pending = undefined;
      for (const message of queued) upstream.send(message);
    });
    return flow;
  }

  private closeFlow(key: string): void {
    const flow = this.flows.get(key);
    if (!flow) return;
    this.flows.delete(key);
    clearTimeout(flow.idle);
    flow.upstream.close();
    this.table.closeUdpFlow(flow.backend);
  }
}
