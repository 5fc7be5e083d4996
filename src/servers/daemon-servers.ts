import type { ProxyMode } from '../config/proxy-mode.js';
import type { ProxyState } from '../model/proxy-state.js';
import type { IPFamily } from '../model/service.js';
import {
  type BindAddress,
  defaultHealthzBindAddress,
  defaultMetricsBindAddress,
  parseBindAddress,
} from './bind-address.js';
import { EndpointConnectionMetrics } from './endpoint-connection-metrics.js';
import { HealthCheckNodePorts, type HealthCheckNodePortsOptions } from './health-check-node-ports.js';
import { type RunningServer, startHealthzServer } from './healthz.js';
import { ProxyMetrics } from './metrics.js';
import { startMetricsServer } from './metrics-server.js';
import { ProxyHealth } from './proxy-health.js';

export interface DaemonServersOptions {
  readonly mode: ProxyMode;
  readonly nodeName: string;
  /** KubeProxyConfiguration's `healthzBindAddress` ("" = kube-proxy's default 0.0.0.0:10256). */
  readonly healthzBindAddress: string;
  /** `metricsBindAddress` ("" = 127.0.0.1:10249). */
  readonly metricsBindAddress: string;
  /** The mode's `syncPeriod`; a change not synced within twice that makes the proxy unhealthy. */
  readonly syncPeriodSeconds: number;
  /** Node IPs the health-check node ports listen on (from nodePortAddresses); default all. */
  readonly healthCheckHosts?: readonly string[];
  readonly healthCheckRetry?: { readonly initialMs: number; readonly maxMs: number };
  /** E.g. to post a Warning event on the Service when its health-check port cannot be opened. */
  readonly onHealthCheckListenFailure?: HealthCheckNodePortsOptions['onListenFailure'];
  /** Adds process_* / nodejs_* series (true in `kproxy run`, off in tests). */
  readonly processMetrics?: boolean;
  readonly now?: () => number;
}

/** What the sync runner reports after each attempt to program the data plane. */
export interface SyncReport {
  readonly state: ProxyState;
  readonly durationSeconds: number;
  readonly full: boolean;
  readonly succeeded: boolean;
  /** The families the data plane programs (['IPv4'], or both when dual-stack). */
  readonly families: readonly IPFamily[];
}

/**
 * Everything kproxy serves beside the data plane, behind the three calls the sync runner makes:
 * `changeQueued` when a Service or EndpointSlice change arrives, `syncFinished` after each sync,
 * and `stop` on the way out.
 */
export class DaemonServers {
  private constructor(
    readonly health: ProxyHealth,
    readonly metrics: ProxyMetrics,
    readonly connections: EndpointConnectionMetrics,
    readonly healthCheckNodePorts: HealthCheckNodePorts,
    private readonly servers: readonly RunningServer[],
    private readonly now: () => number,
  ) {}

  /** Starts /healthz+/livez and /metrics; rejects with KPROXY_E_PORT_IN_USE if either address is taken. */
  static async start(options: DaemonServersOptions): Promise<DaemonServers> {
    const now = options.now ?? Date.now;
    const health = new ProxyHealth({ healthTimeoutMs: 2 * options.syncPeriodSeconds * 1000, now });
    const metrics = new ProxyMetrics({ mode: options.mode, processMetrics: options.processMetrics });
    const connections = new EndpointConnectionMetrics({ registry: metrics.registry });
    const healthCheckNodePorts = new HealthCheckNodePorts({
      nodeName: options.nodeName,
      isProxyHealthy: () => health.isHealthy(),
      hosts: options.healthCheckHosts,
      registry: metrics.registry,
      retry: options.healthCheckRetry,
      onListenFailure: options.onHealthCheckListenFailure,
    });
    const healthz = await startHealthzServer({
      address: parseBindAddress(options.healthzBindAddress, 'healthzBindAddress', defaultHealthzBindAddress),
      health,
      onProbe: (path, code) => metrics.probeAnswered(path, code),
    });
    let metricsServer: RunningServer;
    try {
      metricsServer = await startMetricsServer({
        address: parseBindAddress(
          options.metricsBindAddress,
          'metricsBindAddress',
          defaultMetricsBindAddress,
        ),
        metrics,
      });
    } catch (error) {
      await healthz.close();
      throw error;
    }
    return new DaemonServers(
      health,
      metrics,
      connections,
      healthCheckNodePorts,
      [healthz, metricsServer],
      now,
    );
  }

  get healthzAddress(): BindAddress {
    return this.servers[0]?.address ?? { host: '', port: 0 };
  }

  get metricsAddress(): BindAddress {
    return this.servers[1]?.address ?? { host: '', port: 0 };
  }

  /** Changes arrived that the rules do not reflect yet (counts of changed Services / EndpointSlices). */
  changeQueued(change: {
    readonly families: readonly IPFamily[];
    readonly servicesPending: number;
    readonly endpointsPending: number;
    readonly servicesAdded?: number;
    readonly endpointsAdded?: number;
  }): void {
    for (const family of change.families) this.health.queuedUpdate(family);
    this.metrics.syncQueued(this.now());
    this.metrics.changes(change);
  }

  /** After a sync: health, metrics, connection-counter slots, and the health-check node ports. */
  async syncFinished(report: SyncReport): Promise<void> {
    this.metrics.syncFinished({ ...report, finishedAtMs: this.now() });
    // A failed sync leaves the change queued, so health turns 503 if failures outlast the timeout;
    // the ports still follow the state, as their answer comes from endpoints, not rules.
    if (report.succeeded) for (const family of report.families) this.health.updated(family);
    this.metrics.localPolicies(report.state);
    this.connections.retain(report.state);
    await this.healthCheckNodePorts.sync(report.state);
  }

  async stop(): Promise<void> {
    await this.healthCheckNodePorts.close();
    await Promise.all(this.servers.map((server) => server.close()));
  }
}
