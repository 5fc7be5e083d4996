import type { ProxyMode } from '../config/proxy-mode.js';
import type { ProxyState } from '../model/proxy-state.js';
import type { IPFamily } from '../model/service.js';
import {
  type BindAddress,
  defaultHealthzBindAddress,
  defaultMetricsBindAddress,
  parseBindAddress,
} from './bind-address.js';
import { type ConnectionTotal, EndpointConnectionMetrics } from './endpoint-connection-metrics.js';
import { HealthCheckNodePorts, type HealthCheckNodePortsOptions } from './health-check-node-ports.js';
import { startHealthzServer } from './healthz.js';
import { keepTrying, type PendingServer } from './keep-trying.js';
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
  /** `bindAddressHardFail`: a taken healthz or metrics address fails the start instead of being retried. */
  readonly bindAddressHardFail?: boolean;
  /** How often to retry a taken healthz or metrics address (kube-proxy: 5 s). */
  readonly bindRetryMs?: number;
  /** The mode's `syncPeriod`; a change not synced within twice that makes the proxy unhealthy. */
  readonly syncPeriodSeconds: number;
  /** Node IPs the health-check node ports listen on (from nodePortAddresses); default all. */
  readonly healthCheckHosts?: readonly string[];
  readonly healthCheckRetry?: { readonly initialMs: number; readonly maxMs: number };
  /** E.g. to post a Warning event on the Service when its health-check port cannot be opened. */
  readonly onHealthCheckListenFailure?: HealthCheckNodePortsOptions['onListenFailure'];
  /** The data plane's per-endpoint connection counts, read at each scrape (connection-totals.ts). */
  readonly connectionTotals?: () => Promise<Iterable<ConnectionTotal>>;
  /** Adds process_* / nodejs_* series (true in `kproxy run`, off in tests). */
  readonly processMetrics?: boolean;
  readonly now?: () => number;
}

/** What the sync runner reports after each sync that reached the data plane. */
export interface SyncReport {
  readonly state: ProxyState;
  readonly durationSeconds: number;
  readonly full: boolean;
  /** False when the data plane refused some rules. */
  readonly succeeded: boolean;
}

/**
 * Everything kproxy serves beside the data plane, behind the calls control makes:
 * `changeQueued` when a Service or EndpointSlice change arrives, `syncFinished` after each sync
 * (`syncFailed` too when it failed), and `stop` on the way out. proxier-hooks.ts makes them.
 */
export class DaemonServers {
  private constructor(
    readonly health: ProxyHealth,
    readonly metrics: ProxyMetrics,
    readonly connections: EndpointConnectionMetrics,
    readonly healthCheckNodePorts: HealthCheckNodePorts,
    private readonly servers: readonly PendingServer[],
    private readonly now: () => number,
  ) {}

  private readonly pendingServices = new Set<string>();
  private readonly pendingEndpointSlices = new Set<string>();
  /** When the changes waiting for a sync were made (EndpointSlices' last-change-trigger-time), in ms. */
  private pendingTriggerTimes: number[] = [];
  /** The families the data plane programs, from the last state (IPv4 until the first sync). */
  private families: readonly IPFamily[] = ['IPv4'];

  /**
   * Starts /healthz+/livez and /metrics. A taken address is logged and retried (kube-proxy's way),
   * or, with bindAddressHardFail, rejects with KPROXY_E_PORT_IN_USE.
   */
  static async start(options: DaemonServersOptions): Promise<DaemonServers> {
    const now = options.now ?? Date.now;
    const health = new ProxyHealth({ healthTimeoutMs: 2 * options.syncPeriodSeconds * 1000, now });
    const metrics = new ProxyMetrics({ mode: options.mode, processMetrics: options.processMetrics });
    const connections = new EndpointConnectionMetrics({
      registry: metrics.registry,
      readTotals: options.connectionTotals,
    });
    const healthCheckNodePorts = new HealthCheckNodePorts({
      nodeName: options.nodeName,
      isProxyHealthy: () => health.isHealthy(),
      hosts: options.healthCheckHosts,
      registry: metrics.registry,
      retry: options.healthCheckRetry,
      onListenFailure: options.onHealthCheckListenFailure,
    });
    const hardFail = options.bindAddressHardFail ?? false;
    // Parsed first: a bad address is a configuration error to report now, not a port to retry.
    const healthzAddress = parseBindAddress(
      options.healthzBindAddress,
      'healthzBindAddress',
      defaultHealthzBindAddress,
    );
    const metricsAddress = parseBindAddress(
      options.metricsBindAddress,
      'metricsBindAddress',
      defaultMetricsBindAddress,
    );
    const healthz = await keepTrying({
      field: 'healthzBindAddress',
      hardFail,
      retryMs: options.bindRetryMs,
      start: () =>
        startHealthzServer({
          address: healthzAddress,
          health,
          onProbe: (path, code) => metrics.probeAnswered(path, code),
        }),
    });
    let metricsServer: PendingServer;
    try {
      metricsServer = await keepTrying({
        field: 'metricsBindAddress',
        hardFail,
        retryMs: options.bindRetryMs,
        start: () =>
          startMetricsServer({
            address: metricsAddress,
            metrics,
          }),
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

  /** Where /healthz and /livez answer; undefined while the address is taken and being retried. */
  get healthzAddress(): BindAddress | undefined {
    return this.servers[0]?.address;
  }

  get metricsAddress(): BindAddress | undefined {
    return this.servers[1]?.address;
  }

  /**
   * A Service or EndpointSlice changed (really: no-op updates are dropped before this).
   * `triggerTimeMs` is when the change was made in the cluster, for the network programming latency.
   */
  changeQueued(kind: 'service' | 'endpointSlice', key: string, triggerTimeMs?: number): void {
    const pending = kind === 'service' ? this.pendingServices : this.pendingEndpointSlices;
    pending.add(key);
    if (triggerTimeMs !== undefined) this.pendingTriggerTimes.push(triggerTimeMs);
    for (const family of this.families) this.health.queuedUpdate(family);
    this.metrics.syncQueued(this.now());
    this.metrics.changes({
      servicesPending: this.pendingServices.size,
      endpointsPending: this.pendingEndpointSlices.size,
      servicesAdded: kind === 'service' ? 1 : 0,
      endpointsAdded: kind === 'endpointSlice' ? 1 : 0,
    });
  }

  /** A sync failed (counted; health turns 503 if failures outlast the health timeout). */
  syncFailed(): void {
    this.metrics.syncFailed();
  }

  /** After a sync: health, metrics, connection-counter slots, and the health-check node ports. */
  async syncFinished(report: SyncReport): Promise<void> {
    const finishedAtMs = this.now();
    this.metrics.syncFinished({ ...report, finishedAtMs });
    this.families = familiesOf(report.state);
    if (report.succeeded) {
      for (const triggerMs of this.pendingTriggerTimes)
        this.metrics.networkProgrammed((finishedAtMs - triggerMs) / 1000);
      this.pendingTriggerTimes = [];
      for (const family of this.families) this.health.updated(family);
      this.pendingServices.clear();
      this.pendingEndpointSlices.clear();
    }
    this.metrics.localPolicies(report.state);
    this.connections.retain(report.state);
    // The ports follow the state even after a failed sync: their answer comes from endpoints, not rules.
    await this.healthCheckNodePorts.sync(report.state);
  }

  async stop(): Promise<void> {
    await this.healthCheckNodePorts.close();
    await Promise.all(this.servers.map((server) => server.close()));
  }
}

/** The IP families of the state's cluster IPs; IPv4 for an empty state. */
function familiesOf(state: ProxyState): IPFamily[] {
  const families = new Set<IPFamily>();
  for (const port of state.servicePorts.values()) {
    for (const ip of port.clusterIPs) families.add(ip.includes(':') ? 'IPv6' : 'IPv4');
  }
  return families.size > 0 ? [...families].sort() : ['IPv4'];
}
