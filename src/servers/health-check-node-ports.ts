import { createServer, type Server, type ServerResponse } from 'node:http';
import { Counter, Gauge, type Registry } from 'prom-client';
import { log } from '../log.js';
import type { ProxyState } from '../model/proxy-state.js';
import { closeHttp, listenHttp } from './bind-address.js';
import { type DesiredHealthCheck, desiredHealthChecks } from './health-check-services.js';

export interface HealthCheckNodePortsOptions {
  readonly nodeName: string;
  /** The proxy's own health (kube-proxy: 503 while the proxy is unhealthy, whatever the endpoints). */
  readonly isProxyHealthy: () => boolean;
  /** Addresses to listen on (nodePortAddresses' node IPs); default every address. */
  readonly hosts?: readonly string[];
  /** Where to register the failure counter and the serving/failing gauge. */
  readonly registry?: Registry;
  /**
   * Told of each failed attempt, e.g. to post kube-proxy's `FailedToStartServiceHealthcheck`
   * Warning event on the Service.
   */
  readonly onListenFailure?: (failure: {
    readonly service: string;
    readonly port: number;
    readonly error: Error;
  }) => void;
  /** Back-off between attempts at a port in use: doubles from `initialMs` up to `maxMs`. */
  readonly retry?: { readonly initialMs: number; readonly maxMs: number };
}

interface Instance extends DesiredHealthCheck {
  servers: Server[];
  attempts: number;
  retryTimer?: NodeJS.Timeout;
}

/** What a health-check port is doing, for `status()` and tests. */
export interface HealthCheckStatus {
  readonly service: string;
  readonly port: number;
  readonly localEndpoints: number;
  readonly listening: boolean;
}

/**
 * The health-check node ports of Services with `externalTrafficPolicy: Local`: one HTTP server
 * per Service on its `healthCheckNodePort`, answering 200 while this node has ready endpoints of
 * the Service and 503 otherwise, so load balancers send traffic only to nodes that can serve it.
 * A port that cannot be opened (the seed's `bind: address already in use`) is logged with what to
 * do, counted, and retried with back-off; every other port and server keeps serving.
 */
export class HealthCheckNodePorts {
  private readonly instances = new Map<string, Instance>();
  private queue: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly failures?: Counter;
  private readonly ports?: Gauge<'state'>;

  constructor(private readonly options: HealthCheckNodePortsOptions) {
    if (options.registry) {
      const registers = [options.registry];
      this.failures = new Counter({
        name: 'kproxy_health_check_node_port_listen_failures_total',
        help: 'Attempts to open a health-check node port that failed (e.g. port in use)',
        registers,
      });
      this.ports = new Gauge({
        name: 'kproxy_health_check_node_ports',
        help: 'Health-check node ports by state: serving, or failing (waiting for a retry)',
        labelNames: ['state'],
        registers,
      });
    }
  }

  /** Opens, updates and closes health-check ports so they match `state`. Never throws. */
  sync(state: ProxyState): Promise<void> {
    return this.serialized(async () => {
      const desired = desiredHealthChecks(state);
      for (const [key, instance] of this.instances) {
        const wanted = desired.get(key);
        if (wanted?.port === instance.port) continue;
        log.info(
          'health-check-node-ports.ts',
          'Closing healthcheck',
          { service: key, port: instance.port },
          2,
        );
        await this.stop(key, instance);
      }
      const opening: Promise<void>[] = [];
      for (const [key, wanted] of desired) {
        const existing = this.instances.get(key);
        if (existing) {
          existing.localEndpoints = wanted.localEndpoints;
          continue;
        }
        const instance: Instance = { ...wanted, servers: [], attempts: 0 };
        this.instances.set(key, instance);
        log.info('health-check-node-ports.ts', 'Opening healthcheck', { service: key, port: wanted.port }, 2);
        opening.push(this.open(key, instance));
      }
      await Promise.all(opening);
      this.updateGauge();
    });
  }

  status(): HealthCheckStatus[] {
    return [...this.instances].map(([service, instance]) => ({
      service,
      port: instance.port,
      localEndpoints: instance.localEndpoints,
      listening: instance.servers.length > 0,
    }));
  }

  /** Closes every port and cancels pending retries. */
  close(): Promise<void> {
    this.closed = true;
    return this.serialized(async () => {
      for (const [key, instance] of this.instances) await this.stop(key, instance);
      this.updateGauge();
    });
  }

  private serialized(step: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(step, step);
    return this.queue;
  }

  private async open(key: string, instance: Instance): Promise<void> {
    const hosts = this.options.hosts?.length ? this.options.hosts : [''];
    const servers: Server[] = [];
    try {
      for (const host of hosts) {
        const server = createServer((_request, response) => this.answer(key, response));
        servers.push(server);
        await listenHttp(server, { host, port: instance.port }, `health-check node port of Service ${key}`);
      }
      instance.servers = servers;
      instance.attempts = 0;
    } catch (error) {
      await Promise.all(servers.map(closeHttp));
      this.failed(key, instance, error);
    }
  }

  private failed(key: string, instance: Instance, error: unknown): void {
    this.failures?.inc();
    const retry = this.options.retry ?? { initialMs: 1000, maxMs: 60_000 };
    const delayMs = Math.min(retry.initialMs * 2 ** instance.attempts, retry.maxMs);
    instance.attempts++;
    const port = instance.port;
    log.error('health-check-node-ports.ts', 'Failed to start healthcheck', {
      err: error instanceof Error ? error.message : String(error),
      node: this.options.nodeName,
      service: key,
      port,
      retryIn: `${delayMs / 1000}s`,
      hint:
        `another process on this node holds port ${port} (find it: ss -ltnp 'sport = :${port}'); stop it, ` +
        `or give the Service another spec.healthCheckNodePort. Until then load balancers see this node as ` +
        `unhealthy for ${key}; kproxy retries and keeps serving everything else.`,
    });
    this.options.onListenFailure?.({
      service: key,
      port,
      error: error instanceof Error ? error : new Error(String(error)),
    });
    instance.retryTimer = setTimeout(() => this.retry(key, instance), delayMs);
    instance.retryTimer.unref();
  }

  private retry(key: string, instance: Instance): void {
    void this.serialized(async () => {
      instance.retryTimer = undefined;
      // The Service may have gone or changed port while we waited.
      if (this.closed || this.instances.get(key) !== instance) return;
      await this.open(key, instance);
      if (instance.servers.length > 0) {
        log.info('health-check-node-ports.ts', 'Started healthcheck after retry', {
          service: key,
          port: instance.port,
        });
      }
      this.updateGauge();
    });
  }

  private async stop(key: string, instance: Instance): Promise<void> {
    clearTimeout(instance.retryTimer);
    this.instances.delete(key);
    await Promise.all(instance.servers.map(closeHttp));
    instance.servers = [];
  }

  private answer(key: string, response: ServerResponse): void {
    const instance = this.instances.get(key);
    const localEndpoints = instance?.localEndpoints ?? 0;
    const serviceProxyHealthy = this.options.isProxyHealthy();
    const [namespace, name] = key.split('/');
    response.writeHead(localEndpoints > 0 && serviceProxyHealthy ? 200 : 503, {
      'Content-Type': 'application/json',
      'X-Content-Type-Options': 'nosniff',
      'X-Load-Balancing-Endpoint-Weight': String(localEndpoints),
    });
    // kube-proxy's body, tab-indented as it writes it.
    response.end(
      JSON.stringify({ service: { namespace, name }, localEndpoints, serviceProxyHealthy }, null, '\t'),
    );
  }

  private updateGauge(): void {
    const serving = this.status().filter((entry) => entry.listening).length;
    this.ports?.set({ state: 'serving' }, serving);
    this.ports?.set({ state: 'failing' }, this.instances.size - serving);
  }
}
