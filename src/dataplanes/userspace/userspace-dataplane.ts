import { KproxyError } from '../../errors.js';
import { log } from '../../log.js';
import type { ProxyState, ServicePortState } from '../../model/proxy-state.js';
import { effectiveSchedulerFlags } from '../../schedulers/registry.js';
import type { Dataplane, SyncResult } from '../dataplane.js';
import { ServiceAddressInterface } from '../service-address-interface.js';
import type { Backend } from './backend.js';
import { ConnectionTable, type ConnectionTimeouts, defaultConnectionTimeouts } from './connection-table.js';
import type { ListenAddress } from './frontend-listener.js';
import { type FrontendSpec, resolveNodePortIPs } from './frontends.js';
import { type Frontend, type SchedulerChoice, ServicePortProxy } from './service-port-proxy.js';

export type { ListenAddress } from './frontend-listener.js';

/** `interface`: on the Service addresses, put on kube-ipvs0; `loopback`: on free loopback ports. */
export type FrontendPlacement = 'interface' | 'loopback';
export type { Frontend } from './service-port-proxy.js';

/** `tcpTimeout`, `tcpFinTimeout`, `udpTimeout` in milliseconds (the config's `ipvs.*`); 0 = IPVS's default. */
export interface UserspaceDataplaneOptions extends Partial<ConnectionTimeouts> {
  /** The scheduler for Services without a `kproxy.io/ipvs-scheduler` annotation. */
  readonly scheduler: string;
  /**
   * Where a frontend listens. Unset: on the Service address itself (`interface`, the addresses put
   * on kube-ipvs0; needs root) or on a free loopback port (`loopback`), per `frontendAddresses`.
   */
  readonly listenAddress?: (servicePort: ServicePortState, frontend: FrontendSpec) => ListenAddress;
  /** Default: `interface` when running as root, else `loopback` (the mapping is logged). */
  readonly frontendAddresses?: FrontendPlacement;
  /** `nodePortAddresses` from the configuration: CIDRs or `primary`; empty means every address. */
  readonly nodePortAddresses?: readonly string[];
  /** The node's own IPs (for `primary`). */
  readonly nodeIPs?: readonly string[];
  /** A connect not done after this long is a failure and the next backend is tried (default 2 s). */
  readonly connectTimeoutMs?: number;
  /** Backends one client connection may try (default 3). */
  readonly maxConnectAttempts?: number;
  /** How long a backend that failed a connect gets no new connections (default 5 s). */
  readonly holdBackMs?: number;
  readonly random?: () => number;
  /** The kube-ipvs0 manager; injectable for tests. */
  readonly serviceInterface?: ServiceAddressInterface;
  /** False in worker processes: the primary keeps kube-ipvs0, workers only listen. Default true. */
  readonly manageServiceInterface?: boolean;
}

/**
 * The userspace data plane: a proxy in this process accepts each Service's TCP connections and
 * UDP flows itself and forwards them to the endpoint the scheduler picks. It carries every IPVS
 * scheduler, the stateful ones included, on any kernel and without root.
 */
export class UserspaceDataplane implements Dataplane {
  readonly name = 'userspace';
  private readonly proxies = new Map<string, ServicePortProxy>();
  private readonly table: ConnectionTable;
  private readonly frontendAddresses: FrontendPlacement;
  private readonly nodePortIPs: readonly string[];
  private serviceInterface: ServiceAddressInterface | undefined;

  constructor(private readonly options: UserspaceDataplaneOptions) {
    // 0 or unset means IPVS's default, as kube-proxy leaves the kernel's value alone for 0.
    this.table = new ConnectionTable(
      {
        tcpTimeout: options.tcpTimeout || defaultConnectionTimeouts.tcpTimeout,
        tcpFinTimeout: options.tcpFinTimeout || defaultConnectionTimeouts.tcpFinTimeout,
        udpTimeout: options.udpTimeout || defaultConnectionTimeouts.udpTimeout,
      },
      { connectTimeoutMs: options.connectTimeoutMs },
    );
    this.frontendAddresses =
      options.frontendAddresses ?? (process.getuid?.() === 0 ? 'interface' : 'loopback');
    this.nodePortIPs = resolveNodePortIPs(options.nodePortAddresses ?? [], options.nodeIPs ?? []);
  }

  async sync(state: ProxyState): Promise<SyncResult> {
    const failed = new Map<string, Error>();
    // Gone service ports close; a changed scheduler or flag starts the port afresh (new counters).
    for (const [id, proxy] of this.proxies) {
      const next = state.servicePorts.get(id);
      if (!next || !sameScheduler(this.schedulerOf(next), proxy.scheduler)) {
        this.proxies.delete(id);
        await proxy.close(false);
      }
    }
    const servicePorts = [...state.servicePorts.values()].filter((servicePort) => {
      if (servicePort.protocol !== 'SCTP') return true;
      failed.set(servicePort.id, unsupportedProtocol(servicePort));
      return false;
    });
    const interfaceError = this.placeServiceAddresses(servicePorts);
    if (interfaceError) {
      for (const servicePort of servicePorts) failed.set(servicePort.id, interfaceError);
      return { failed };
    }
    await Promise.all(
      servicePorts.map(async (servicePort) => {
        try {
          const errors = await this.proxyFor(servicePort).apply(servicePort);
          if (errors[0]) failed.set(servicePort.id, errors[0]);
        } catch (error) {
          failed.set(servicePort.id, error as Error);
        }
      }),
    );
    for (const [id, error] of failed) {
      log.error('userspace-dataplane.ts', 'Service port not fully served', {
        servicePort: id,
        error: error.message,
      });
    }
    return { failed };
  }

  frontends(): Frontend[] {
    return [...this.proxies.values()].flatMap((proxy) => proxy.frontends());
  }

  /** The backends of a service port with their counters; `external` for node ports, external and LB IPs. */
  backends(servicePortId: string, traffic: 'cluster' | 'external' = 'cluster'): readonly Backend[] {
    return this.proxies.get(servicePortId)?.backends(traffic) ?? [];
  }

  /** Connections turned away by a service port's loadBalancerSourceRanges. */
  refusedConnections(servicePortId: string): number {
    return this.proxies.get(servicePortId)?.refused ?? 0;
  }

  async cleanup(): Promise<void> {
    await Promise.all([...this.proxies.values()].map((proxy) => proxy.close(true)));
    this.proxies.clear();
    this.table.stop();
    this.serviceInterface?.remove();
    this.serviceInterface = undefined;
  }

  /** The service port's proxy; a new one when the port is new. */
  private proxyFor(servicePort: ServicePortState): ServicePortProxy {
    const existing = this.proxies.get(servicePort.id);
    if (existing) return existing;
    const scheduler = this.schedulerOf(servicePort);
    const proxy = new ServicePortProxy(servicePort, {
      scheduler,
      schedulerOptions: { random: this.options.random },
      holdBackMs: this.options.holdBackMs ?? 5000,
      nodePortIPs: this.nodePortIPs,
      announceMapping: this.options.listenAddress === undefined,
      listenAddress: this.options.listenAddress ?? ((_, spec) => this.defaultListenAddress(spec)),
      forwarding: {
        table: this.table,
        maxConnectAttempts: this.options.maxConnectAttempts ?? 3,
      },
    });
    this.proxies.set(servicePort.id, proxy);
    return proxy;
  }

  /** The Service's scheduler (its annotation, else the configured one) and the flags it runs with. */
  private schedulerOf(servicePort: ServicePortState): SchedulerChoice {
    const name = servicePort.scheduler ?? this.options.scheduler;
    return { name, flags: effectiveSchedulerFlags(name, servicePort.schedulerFlags) };
  }

  private defaultListenAddress(spec: FrontendSpec): ListenAddress {
    return this.frontendAddresses === 'interface'
      ? { host: spec.ip, port: spec.port }
      : { host: spec.ip.includes(':') ? '::1' : '127.0.0.1', port: 0 };
  }

  /** In `interface` placement, puts every Service address on kube-ipvs0 before listening on it. */
  private placeServiceAddresses(servicePorts: readonly ServicePortState[]): Error | undefined {
    if (this.options.listenAddress || this.frontendAddresses !== 'interface') return undefined;
    if (this.options.manageServiceInterface === false) return undefined;
    const addresses = serviceAddresses(servicePorts);
    try {
      this.serviceInterface ??= this.options.serviceInterface ?? new ServiceAddressInterface();
      this.serviceInterface.setAddresses(addresses);
      return undefined;
    } catch (error) {
      return error as Error;
    }
  }
}

/** The addresses kube-ipvs0 must hold for these service ports. */
export function serviceAddresses(servicePorts: Iterable<ServicePortState>): Set<string> {
  return new Set(
    [...servicePorts].flatMap((servicePort) => [
      ...servicePort.clusterIPs,
      ...servicePort.externalIPs,
      ...servicePort.loadBalancerIPs,
    ]),
  );
}

function sameScheduler(a: SchedulerChoice, b: SchedulerChoice): boolean {
  return a.name === b.name && a.flags.join(',') === b.flags.join(',');
}

function unsupportedProtocol(servicePort: ServicePortState): KproxyError {
  return new KproxyError(
    'KPROXY_E_UNSUPPORTED_PROTOCOL',
    `service ${servicePort.id}: protocol SCTP is not supported by the userspace data plane`,
    { hint: 'use mode iptables, nftables or ipvs for SCTP Services; the other Services are served' },
  );
}
