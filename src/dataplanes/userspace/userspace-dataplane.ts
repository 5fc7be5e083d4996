import type { ProxyState, ServicePortState } from '../../model/proxy-state.js';
import { createScheduler } from '../../schedulers/registry.js';
import type { Dataplane, SyncResult } from '../dataplane.js';
import type { Backend } from './backend.js';
import { type ListenAddress, ServiceListener } from './service-listener.js';

export interface UserspaceDataplaneOptions {
  /** The scheduler for Services without a `kproxy.io/ipvs-scheduler` annotation. */
  readonly scheduler: string;
  /** Where a service port's frontend listens; without root, somewhere on loopback. */
  readonly listenAddress: (servicePort: ServicePortState) => ListenAddress;
  readonly random?: () => number;
}

export interface Frontend {
  readonly servicePortId: string;
  readonly address: ListenAddress;
}

/**
 * The userspace data plane: a proxy process that accepts each Service's connections itself and
 * forwards them to the endpoint the scheduler picks. It carries every scheduler, stateful ones
 * included, on any kernel and without root.
 */
export class UserspaceDataplane implements Dataplane {
  readonly name = 'userspace';
  private readonly listeners = new Map<string, { listener: ServiceListener; address: ListenAddress }>();

  constructor(private readonly options: UserspaceDataplaneOptions) {}

  async sync(state: ProxyState): Promise<SyncResult> {
    const failed = new Map<string, Error>();
    for (const [id, entry] of this.listeners) {
      if (!state.servicePorts.has(id)) {
        await entry.listener.close();
        this.listeners.delete(id);
      }
    }
    for (const servicePort of state.servicePorts.values()) {
      if (servicePort.protocol !== 'TCP') continue;
      const existing = this.listeners.get(servicePort.id);
      if (existing) {
        existing.listener.update(servicePort);
        continue;
      }
      try {
        const scheduler = createScheduler<Backend>(servicePort.scheduler ?? this.options.scheduler, {
          random: this.options.random,
        });
        const listener = new ServiceListener(servicePort, scheduler, this.options.listenAddress(servicePort));
        const address = await listener.listen();
        this.listeners.set(servicePort.id, { listener, address });
      } catch (error) {
        failed.set(servicePort.id, error as Error);
      }
    }
    return { failed };
  }

  frontends(): Frontend[] {
    return [...this.listeners].map(([servicePortId, { address }]) => ({ servicePortId, address }));
  }

  backends(servicePortId: string): readonly Backend[] {
    return this.listeners.get(servicePortId)?.listener.currentBackends() ?? [];
  }

  async cleanup(): Promise<void> {
    await Promise.all([...this.listeners.values()].map(({ listener }) => listener.close()));
    this.listeners.clear();
  }
}
