import { createServer, type Server, type Socket } from 'node:net';
import { listenError } from '../../errors.js';
import type { ServicePortState } from '../../model/proxy-state.js';
import type { Scheduler } from '../../schedulers/scheduler.js';
import { type Backend, newBackend } from './backend.js';
import { spliceToBackend } from './tcp-splice.js';

export interface ListenAddress {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
}

/**
 * One frontend of one service port: a TCP listener that hands every accepted connection to the
 * backend its scheduler picks. Backends are kept across updates so the counters of open
 * connections survive a sync; a removed endpoint's connections run on until they close.
 */
export class ServiceListener {
  private readonly server: Server;
  private backends = new Map<string, Backend>();
  private readonly address: ListenAddress;

  constructor(
    private servicePort: ServicePortState,
    private readonly scheduler: Scheduler<Backend>,
    address: ListenAddress,
  ) {
    this.address = address;
    this.server = createServer({ allowHalfOpen: true, pauseOnConnect: false }, (client) =>
      this.accept(client),
    );
    this.update(servicePort);
  }

  /** Starts listening; rejects with KPROXY_E_PORT_IN_USE when the address is taken. */
  listen(): Promise<ListenAddress> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error) =>
        reject(listenError(error, this.address.host, this.address.port, `service ${this.servicePort.id}`));
      this.server.once('error', onError);
      this.server.listen({ host: this.address.host, port: this.address.port, backlog: 4096 }, () => {
        this.server.off('error', onError);
        const bound = this.server.address();
        resolve({ host: this.address.host, port: typeof bound === 'object' && bound ? bound.port : 0 });
      });
    });
  }

  /** Takes a new state of the service port: new connections go only to its current endpoints. */
  update(servicePort: ServicePortState): void {
    this.servicePort = servicePort;
    const next = new Map<string, Backend>();
    for (const endpoint of servicePort.clusterEndpoints) {
      const fresh = newBackend(endpoint);
      const kept = this.backends.get(fresh.id);
      if (kept) kept.weight = fresh.weight;
      next.set(fresh.id, kept ?? fresh);
    }
    this.backends = next;
    this.scheduler.update([...next.values()]);
  }

  /** The live backends, with their counters. */
  currentBackends(): readonly Backend[] {
    return [...this.backends.values()];
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    const backend = this.scheduler.pick({
      clientIP: client.remoteAddress ?? '',
      clientPort: client.remotePort ?? 0,
      serviceIP: client.localAddress ?? '',
      servicePort: client.localPort ?? 0,
    });
    if (!backend) {
      // No endpoint: refuse at once, as kube-proxy's REJECT rule does.
      client.resetAndDestroy();
      return;
    }
    spliceToBackend(client, backend);
  }
}
