import { log } from '../../log.js';
import type { ServicePortState } from '../../model/proxy-state.js';
import { createScheduler } from '../../schedulers/registry.js';
import type { SchedulerOptions } from '../../schedulers/scheduler.js';
import type { Backend } from './backend.js';
import { BackendPool } from './backend-pool.js';
import { cidrFilter } from './cidr-filter.js';
import type {
  ForwardingOptions,
  FrontendListener,
  FrontendRoute,
  ListenAddress,
} from './frontend-listener.js';
import { type FrontendKind, type FrontendSpec, frontendKey, serviceFrontends } from './frontends.js';
import { TcpFrontend } from './tcp-frontend.js';
import { UdpFrontend } from './udp-frontend.js';

/** A scheduler by name with its IPVS flags (`sh-port`, `mh-port` …). */
export interface SchedulerChoice {
  readonly name: string;
  readonly flags: readonly string[];
}

export interface ServicePortProxyOptions {
  readonly scheduler: SchedulerChoice;
  /** Passed to createScheduler; `flags` is taken from `scheduler`. */
  readonly schedulerOptions: Omit<SchedulerOptions, 'flags'>;
  readonly holdBackMs: number;
  readonly forwarding: ForwardingOptions;
  readonly nodePortIPs: readonly string[];
  readonly listenAddress: (servicePort: ServicePortState, frontend: FrontendSpec) => ListenAddress;
  /** Log each frontend that listens somewhere else than its Service address (at --v 2 when false). */
  readonly announceMapping: boolean;
}

/** One frontend as the data plane reports it. */
export interface Frontend {
  readonly servicePortId: string;
  readonly kind: FrontendKind;
  readonly protocol: 'TCP' | 'UDP';
  /** The Service address it stands for, `ip:port`. */
  readonly serviceAddress: string;
  /** Where the proxy really listens (the Service address itself, or a loopback port). */
  readonly address: ListenAddress;
}

interface OpenFrontend {
  readonly listener: FrontendListener;
  readonly frontend: Frontend;
}

/**
 * Everything the proxy runs for one service port: a backend pool for cluster traffic and one for
 * external traffic (IPVS keeps a virtual service per frontend kind), and a listener per frontend.
 * `apply` takes each new state; frontends that failed to listen are tried again on the next sync.
 */
export class ServicePortProxy {
  private readonly cluster: FrontendRoute;
  private readonly external: FrontendRoute;
  private readonly loadBalancer: FrontendRoute;
  private readonly open = new Map<string, OpenFrontend>();

  constructor(
    private servicePort: ServicePortState,
    private readonly options: ServicePortProxyOptions,
  ) {
    const newPool = () =>
      new BackendPool({
        scheduler: createScheduler<Backend>(options.scheduler.name, {
          ...options.schedulerOptions,
          flags: options.scheduler.flags,
        }),
        holdBackMs: options.holdBackMs,
      });
    const admitAll = () => true;
    this.cluster = { pool: newPool(), admits: admitAll, restricted: false, refused: 0 };
    this.external = { pool: newPool(), admits: admitAll, restricted: false, refused: 0 };
    this.loadBalancer = { pool: this.external.pool, admits: admitAll, restricted: false, refused: 0 };
  }

  get scheduler(): SchedulerChoice {
    return this.options.scheduler;
  }

  /** Takes a new state of the service port; resolves to the listen failures, if any. */
  async apply(servicePort: ServicePortState): Promise<Error[]> {
    this.servicePort = servicePort;
    const { sessionAffinity } = servicePort;
    this.cluster.pool.update(servicePort.clusterEndpoints, sessionAffinity);
    this.external.pool.update(servicePort.externalEndpoints, sessionAffinity);
    this.loadBalancer.admits = cidrFilter(
      servicePort.loadBalancerSourceRanges,
      `service ${servicePort.id}: spec.loadBalancerSourceRanges`,
    );
    this.loadBalancer.restricted = servicePort.loadBalancerSourceRanges.length > 0;
    const wanted = new Map(
      serviceFrontends(servicePort, this.options.nodePortIPs).map((spec) => [
        `${spec.kind}/${frontendKey(spec)}`,
        spec,
      ]),
    );
    await Promise.all(
      [...this.open]
        .filter(([key]) => !wanted.has(key))
        .map(([key, entry]) => this.closeFrontend(key, entry, false)),
    );
    const opening = [...wanted].filter(([key]) => !this.open.has(key));
    const results = await Promise.allSettled(opening.map(([key, spec]) => this.openFrontend(key, spec)));
    return results.flatMap((result) => (result.status === 'rejected' ? [result.reason as Error] : []));
  }

  frontends(): Frontend[] {
    return [...this.open.values()].map(({ frontend }) => frontend);
  }

  backends(traffic: 'cluster' | 'external'): readonly Backend[] {
    return (traffic === 'cluster' ? this.cluster : this.external).pool.current();
  }

  /** Connections and flows turned away by loadBalancerSourceRanges. */
  get refused(): number {
    return this.loadBalancer.refused;
  }

  /** Stops listening; open connections run on unless `dropConnections` (cleanup). */
  async close(dropConnections: boolean): Promise<void> {
    await Promise.all([...this.open].map(([key, entry]) => this.closeFrontend(key, entry, dropConnections)));
  }

  private async openFrontend(key: string, spec: FrontendSpec): Promise<void> {
    const route = spec.kind === 'loadBalancer' ? this.loadBalancer : this[spec.traffic];
    const protocol: 'TCP' | 'UDP' = this.servicePort.protocol === 'UDP' ? 'UDP' : 'TCP';
    const serviceAddress = frontendKey(spec);
    const purpose = `service ${this.servicePort.id} ${spec.kind} ${serviceAddress}/${protocol}`;
    const wanted = this.options.listenAddress(this.servicePort, spec);
    const listener =
      protocol === 'UDP'
        ? new UdpFrontend(wanted, route, this.options.forwarding.table, purpose)
        : new TcpFrontend(wanted, route, this.options.forwarding, purpose);
    const address = await listener.listen();
    const frontend = {
      servicePortId: this.servicePort.id,
      kind: spec.kind,
      protocol,
      serviceAddress,
      address,
    };
    this.open.set(key, { listener, frontend });
    if (address.host !== spec.ip || address.port !== spec.port) {
      log.info(
        'service-port-proxy.ts',
        'Service frontend mapped',
        {
          servicePort: this.servicePort.id,
          frontend: `${serviceAddress}/${protocol}`,
          listen: frontendKey({ ip: address.host, port: address.port }),
        },
        this.options.announceMapping ? 0 : 2,
      );
    }
  }

  private async closeFrontend(key: string, entry: OpenFrontend, dropConnections: boolean): Promise<void> {
    this.open.delete(key);
    await entry.listener.close(dropConnections);
  }
}
