import { Counter, Gauge, type Registry } from 'prom-client';
import { log } from '../log.js';
import { endpointAddress } from '../model/endpoint.js';
import type { ProxyState } from '../model/proxy-state.js';

/** The label value that stands for "every endpoint (or service port) without a series of its own". */
export const otherLabel = 'other';

export interface EndpointConnectionMetricsOptions {
  readonly registry: Registry;
  /** Most endpoints with a series of their own (default 200). */
  readonly maxEndpointSeries?: number;
  /** Most service ports with an `endpoint="other"` series of their own (default 100). */
  readonly maxServicePortSeries?: number;
  /** Read at each scrape: the data plane's cumulative counts (see connection-totals.ts). */
  readonly readTotals?: () => Promise<Iterable<ConnectionTotal>>;
}

/** One reading of a cumulative per-endpoint connection counter (the userspace backend's, or a kernel rule's). */
export interface ConnectionTotal {
  readonly servicePort: string;
  readonly endpoint: string;
  readonly total: number;
}

type Labels = { service_port: string; endpoint: string };

/**
 * kproxy's per-endpoint connection counters, `kproxy_endpoint_connections_total{service_port,
 * endpoint}`, with a hard bound on the number of series. The rule (docs/operations.md):
 *
 * 1. The first `maxEndpointSeries` endpoints to take a connection get a series of their own.
 * 2. Later endpoints are counted in their service port's `endpoint="other"` series, for the
 *    first `maxServicePortSeries` service ports that need one;
 * 3. after that, in the single `service_port="other",endpoint="other"` series.
 *
 * Assignments are sticky until the endpoint leaves the ProxyState, so every series only grows,
 * as a Prometheus counter must; a slot freed by a removed endpoint goes to the next newcomer.
 * At most maxEndpointSeries + maxServicePortSeries + 1 series exist, whatever the cluster size.
 */
export class EndpointConnectionMetrics {
  private readonly connections: Counter<'service_port' | 'endpoint'>;
  private readonly folded: Gauge;
  private readonly maxEndpointSeries: number;
  private readonly maxServicePortSeries: number;
  /** endpoint key → the labels its connections are counted under. */
  private readonly assigned = new Map<string, Labels>();
  private readonly lastTotals = new Map<string, number>();
  private ownSeries = 0;
  private readonly servicePortOtherSeries = new Set<string>();

  constructor(options: EndpointConnectionMetricsOptions) {
    this.maxEndpointSeries = options.maxEndpointSeries ?? 200;
    this.maxServicePortSeries = options.maxServicePortSeries ?? 100;
    const readTotals = options.readTotals;
    const observe = (totals: Iterable<ConnectionTotal>) => this.observeTotals(totals);
    this.connections = new Counter({
      name: 'kproxy_endpoint_connections_total',
      help: 'Connections kproxy sent to each endpoint (bounded: see docs/operations.md)',
      labelNames: ['service_port', 'endpoint'],
      registers: [options.registry],
      // prom-client calls this before each scrape.
      ...(readTotals ? { collect: () => readTotals().then(observe, warnUnread) } : {}),
    });
    this.folded = new Gauge({
      name: 'kproxy_endpoint_connections_folded_endpoints',
      help: 'Endpoints counted in an endpoint="other" series because the series limit was reached',
      registers: [options.registry],
    });
  }

  /** Counts `count` new connections from `servicePort` to `endpoint` (`ip:port`). */
  add(servicePort: string, endpoint: string, count = 1): void {
    if (count > 0) this.connections.inc(this.labelsFor(servicePort, endpoint), count);
  }

  /**
   * Takes readings of cumulative counters and adds what grew since the last reading. A reading
   * below the previous one means the source restarted (rules rewritten): it counts in full.
   */
  observeTotals(totals: Iterable<ConnectionTotal>): void {
    for (const { servicePort, endpoint, total } of totals) {
      const key = keyOf(servicePort, endpoint);
      const last = this.lastTotals.get(key) ?? 0;
      this.lastTotals.set(key, total);
      this.add(servicePort, endpoint, total >= last ? total - last : total);
    }
  }

  /** Drops the series and slots of endpoints that are no longer in the state. */
  retain(state: ProxyState): void {
    const present = new Set<string>();
    for (const port of state.servicePorts.values()) {
      for (const endpoint of port.allReachableEndpoints)
        present.add(keyOf(port.id, endpointAddress(endpoint)));
    }
    const servicePortsInUse = new Set<string>();
    for (const [key, labels] of this.assigned) {
      if (present.has(key)) {
        if (labels.endpoint === otherLabel) servicePortsInUse.add(labels.service_port);
        continue;
      }
      this.assigned.delete(key);
      this.lastTotals.delete(key);
      if (labels.endpoint !== otherLabel) {
        this.connections.remove(labels);
        this.ownSeries--;
      }
    }
    for (const servicePort of this.servicePortOtherSeries) {
      if (servicePortsInUse.has(servicePort)) continue;
      this.servicePortOtherSeries.delete(servicePort);
      this.connections.remove({ service_port: servicePort, endpoint: otherLabel });
    }
    this.updateFolded();
  }

  private labelsFor(servicePort: string, endpoint: string): Labels {
    const key = keyOf(servicePort, endpoint);
    const known = this.assigned.get(key);
    if (known) return known;
    let labels: Labels;
    if (this.ownSeries < this.maxEndpointSeries) {
      labels = { service_port: servicePort, endpoint };
      this.ownSeries++;
    } else if (
      this.servicePortOtherSeries.has(servicePort) ||
      this.servicePortOtherSeries.size < this.maxServicePortSeries
    ) {
      this.servicePortOtherSeries.add(servicePort);
      labels = { service_port: servicePort, endpoint: otherLabel };
    } else {
      labels = { service_port: otherLabel, endpoint: otherLabel };
    }
    this.assigned.set(key, labels);
    this.updateFolded();
    return labels;
  }

  private updateFolded(): void {
    this.folded.set(this.assigned.size - this.ownSeries);
  }
}

/** A scrape goes on without fresh counts rather than failing whole. */
function warnUnread(error: unknown): void {
  log.warning('endpoint-connection-metrics.ts', 'Could not read per-endpoint connection counts', {
    err: error instanceof Error ? error.message : String(error),
  });
}

function keyOf(servicePort: string, endpoint: string): string {
  return `${servicePort}|${endpoint}`;
}
