import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { ProxyMode } from '../config/proxy-mode.js';
import type { ProxyState } from '../model/proxy-state.js';

/** Exponential buckets as Prometheus' client libraries build them: start, start·factor, … (count of them). */
export function exponentialBuckets(start: number, factor: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => start * factor ** i);
}

function linearBuckets(start: number, width: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => start + width * i);
}

/** kube-proxy's network-programming buckets: 0.25 s, 0.5 s, 1–59 s, 60–115 s by 5, 2–5 min by 30 s. */
const networkProgrammingBuckets = [
  ...linearBuckets(0.25, 0.25, 2),
  ...linearBuckets(1, 1, 59),
  ...linearBuckets(60, 5, 12),
  ...linearBuckets(120, 30, 7),
];

const syncBuckets = exponentialBuckets(0.001, 2, 15);

export interface ProxyMetricsOptions {
  readonly mode: ProxyMode;
  /** A registry of our own, so tests and several proxies in one process never share series. */
  readonly registry?: Registry;
  /** Adds prom-client's process_* and nodejs_* series (on in `kproxy run`). */
  readonly processMetrics?: boolean;
}

/** A finished sync of the rules, as the sync runner reports it. */
export interface SyncObservation {
  readonly durationSeconds: number;
  /** A full resync rather than a partial one (iptables mode splits the two, like kube-proxy). */
  readonly full: boolean;
  /** False when the data plane refused some rules: the duration counts, the timestamp does not move. */
  readonly succeeded: boolean;
  /** When it finished, in milliseconds since the epoch. */
  readonly finishedAtMs: number;
}

/**
 * kube-proxy's metrics under kube-proxy's names (pkg/proxy/metrics), so dashboards and alerts
 * written for kube-proxy work unchanged, registered per mode as kube-proxy does.
 */
export class ProxyMetrics {
  readonly registry: Registry;
  private readonly syncDuration: Histogram;
  private readonly syncFullDuration?: Histogram;
  private readonly syncPartialDuration?: Histogram;
  private readonly lastSync: Gauge;
  private readonly lastQueued: Gauge;
  private readonly networkProgramming: Histogram;
  private readonly endpointChangesPending: Gauge;
  private readonly endpointChangesTotal: Counter;
  private readonly serviceChangesPending: Gauge;
  private readonly serviceChangesTotal: Counter;
  private readonly noLocalEndpoints: Gauge<'traffic_policy'>;
  private readonly healthz: Counter<'code'>;
  private readonly livez: Counter<'code'>;
  private readonly syncFailures?: Counter;
  private readonly iptablesRules?: Gauge<'table'>;

  constructor(readonly options: ProxyMetricsOptions) {
    this.registry = options.registry ?? new Registry();
    const registers = [this.registry];
    const histogram = (name: string, help: string, buckets = syncBuckets) =>
      new Histogram({ name: `kubeproxy_${name}`, help, buckets, registers });
    const gauge = (name: string, help: string) => new Gauge({ name: `kubeproxy_${name}`, help, registers });
    const counter = (name: string, help: string) =>
      new Counter({ name: `kubeproxy_${name}`, help, registers });

    this.syncDuration = histogram('sync_proxy_rules_duration_seconds', 'SyncProxyRules latency in seconds');
    this.lastQueued = gauge(
      'sync_proxy_rules_last_queued_timestamp_seconds',
      'The last time a sync of proxy rules was queued',
    );
    this.lastSync = gauge(
      'sync_proxy_rules_last_timestamp_seconds',
      'The last time proxy rules were successfully synced',
    );
    this.endpointChangesPending = gauge(
      'sync_proxy_rules_endpoint_changes_pending',
      'Pending proxy rules Endpoint changes',
    );
    this.endpointChangesTotal = counter(
      'sync_proxy_rules_endpoint_changes_total',
      'Cumulative proxy rules Endpoint changes',
    );
    this.serviceChangesPending = gauge(
      'sync_proxy_rules_service_changes_pending',
      'Pending proxy rules Service changes',
    );
    this.serviceChangesTotal = counter(
      'sync_proxy_rules_service_changes_total',
      'Cumulative proxy rules Service changes',
    );
    this.healthz = new Counter({
      name: 'kubeproxy_proxy_healthz_total',
      help: 'Cumulative proxy healthz HTTP status',
      labelNames: ['code'],
      registers,
    });
    this.livez = new Counter({
      name: 'kubeproxy_proxy_livez_total',
      help: 'Cumulative proxy livez HTTP status',
      labelNames: ['code'],
      registers,
    });
    this.networkProgramming = histogram(
      'network_programming_duration_seconds',
      'In Cluster Network Programming Latency in seconds',
      networkProgrammingBuckets,
    );
    this.noLocalEndpoints = new Gauge({
      name: 'kubeproxy_sync_proxy_rules_no_local_endpoints_total',
      help: 'Number of services with a Local traffic policy and no endpoints',
      labelNames: ['traffic_policy'],
      registers,
    });

    if (options.mode === 'iptables') {
      this.syncFullDuration = histogram(
        'sync_full_proxy_rules_duration_seconds',
        'SyncProxyRules latency in seconds for full resyncs',
      );
      this.syncPartialDuration = histogram(
        'sync_partial_proxy_rules_duration_seconds',
        'SyncProxyRules latency in seconds for partial resyncs',
      );
      this.iptablesRules = new Gauge({
        name: 'kubeproxy_sync_proxy_rules_iptables_total',
        help: 'Total number of iptables rules owned by kube-proxy',
        labelNames: ['table'],
        registers,
      });
    }
    if (options.mode === 'iptables' || options.mode === 'ipvs') {
      this.syncFailures = counter(
        'sync_proxy_rules_iptables_restore_failures_total',
        'Cumulative proxy iptables restore failures',
      );
    } else if (options.mode === 'nftables') {
      this.syncFailures = counter(
        'sync_proxy_rules_nftables_sync_failures_total',
        'Cumulative proxy nftables sync failures',
      );
    } else {
      // kube-proxy has no userspace mode any more; this one is ours, hence the kproxy_ prefix.
      this.syncFailures = new Counter({
        name: 'kproxy_sync_proxy_rules_failures_total',
        help: 'Cumulative userspace proxy sync failures',
        registers,
      });
    }
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry });
  }

  /** A change arrived and a sync was requested. */
  syncQueued(atMs: number): void {
    this.lastQueued.set(atMs / 1000);
  }

  /** Changes seen since the last sync (`pending`) and newly arrived ones (`added`), per kind. */
  changes(counts: {
    readonly servicesPending: number;
    readonly endpointsPending: number;
    readonly servicesAdded?: number;
    readonly endpointsAdded?: number;
  }): void {
    this.serviceChangesPending.set(counts.servicesPending);
    this.endpointChangesPending.set(counts.endpointsPending);
    if (counts.servicesAdded) this.serviceChangesTotal.inc(counts.servicesAdded);
    if (counts.endpointsAdded) this.endpointChangesTotal.inc(counts.endpointsAdded);
  }

  syncFinished(sync: SyncObservation): void {
    this.syncDuration.observe(sync.durationSeconds);
    (sync.full ? this.syncFullDuration : this.syncPartialDuration)?.observe(sync.durationSeconds);
    if (!sync.succeeded) return;
    this.lastSync.set(sync.finishedAtMs / 1000);
    this.serviceChangesPending.set(0);
    this.endpointChangesPending.set(0);
  }

  /** A sync failed (an iptables-restore or nft transaction refused, or the data plane threw). */
  syncFailed(): void {
    this.syncFailures?.inc();
  }

  /** Time from a change (e.g. an EndpointSlice's last-change-trigger-time) to rules that reflect it. */
  networkProgrammed(seconds: number): void {
    if (seconds >= 0) this.networkProgramming.observe(seconds);
  }

  /** Recounts the Services (not ports) with a Local traffic policy that have endpoints, but none on this node. */
  localPolicies(state: ProxyState): void {
    const internal = new Set<string>();
    const external = new Set<string>();
    for (const port of state.servicePorts.values()) {
      if (!port.hasAnyEndpoints) continue;
      const service = `${port.namespace}/${port.name}`;
      if (port.internalTrafficPolicy === 'Local' && port.clusterEndpoints.length === 0) internal.add(service);
      if (port.externalTrafficPolicy === 'Local' && port.externalEndpoints.length === 0)
        external.add(service);
    }
    this.noLocalEndpoints.set({ traffic_policy: 'internal' }, internal.size);
    this.noLocalEndpoints.set({ traffic_policy: 'external' }, external.size);
  }

  /** Rules kproxy owns per iptables table after a sync (iptables mode only). */
  iptablesRuleCount(table: string, count: number): void {
    this.iptablesRules?.set({ table }, count);
  }

  probeAnswered(path: '/healthz' | '/livez', code: number): void {
    (path === '/healthz' ? this.healthz : this.livez).inc({ code: String(code) });
  }

  /** The Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}
