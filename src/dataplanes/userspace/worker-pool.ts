import cluster, { type Worker } from 'node:cluster';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ProxyState } from '../../model/proxy-state.js';
import type { Dataplane, SyncResult } from '../dataplane.js';
import { ServiceAddressInterface } from '../service-address-interface.js';
import type { BackendCounters } from './backend.js';
import type { Frontend } from './service-port-proxy.js';
import { serviceAddresses } from './userspace-dataplane.js';
import {
  deserializeError,
  type PrimaryMessage,
  type ServicePortCounters,
  type WorkerDataplaneOptions,
  type WorkerMessage,
  type WorkerReply,
} from './worker-protocol.js';

/**
 * A proxy allocates mostly short-lived objects per connection; a 2 MiB young generation (V8's
 * default is 16 MiB) keeps each worker ~20 MiB smaller with 10,000 connections open, for slightly
 * more frequent minor collections.
 */
const WORKER_V8_FLAGS = ['--max-semi-space-size=2'];

export interface UserspaceWorkerPoolOptions extends WorkerDataplaneOptions {
  /** Worker processes (at least 1). */
  readonly workers: number;
}

/**
 * The userspace data plane spread over worker processes: each runs the whole proxy on the same
 * state, and all share each frontend's listening socket (node:cluster without round-robin), so
 * the kernel gives each new connection to one of them. A host whose per-process descriptor limit
 * is below two per connection can carry more connections this way, and more cores can be used.
 *
 * Each worker schedules on its own: its counters, rr position and affinity entries are its own.
 * rr and the other stateless schedulers keep their spread overall; lc/wlc/sed/nq see only their
 * worker's connections, so the least-loaded choice is per worker; ClientIP affinity holds within a
 * worker (a client's connections may land on different workers). The counters reported here are
 * the sums over workers.
 */
export class UserspaceWorkerPool implements Dataplane {
  readonly name = 'userspace';
  private workers: Worker[] = [];
  private seq = 0;
  private lastFrontends: readonly Frontend[] = [];
  private counters = new Map<string, ServicePortCounters>();
  private serviceInterface: ServiceAddressInterface | undefined;

  constructor(private readonly options: UserspaceWorkerPoolOptions) {}

  async sync(state: ProxyState): Promise<SyncResult> {
    await this.start();
    this.placeServiceAddresses(state);
    const servicePorts = [...state.servicePorts.values()];
    const replies = await this.ask(
      { type: 'sync', seq: ++this.seq, nodeName: state.nodeName, servicePorts },
      'synced',
    );
    const failed = new Map<string, Error>();
    for (const reply of replies) {
      for (const [id, error] of reply.failed) if (!failed.has(id)) failed.set(id, deserializeError(error));
    }
    this.lastFrontends = replies[0]?.frontends ?? [];
    return { failed };
  }

  frontends(): Frontend[] {
    return [...this.lastFrontends];
  }

  /** The workers' process ids (for memory figures). */
  workerPids(): number[] {
    return this.workers.flatMap((worker) => (worker.process.pid ? [worker.process.pid] : []));
  }

  /** Asks every worker for its counters; `backends` returns the sums until the next call. */
  async collectCounters(): Promise<void> {
    const replies = await this.ask({ type: 'counters', seq: ++this.seq }, 'counters');
    const merged = new Map<string, ServicePortCounters>();
    for (const reply of replies) {
      for (const [id, counters] of reply.counters) {
        const sum = merged.get(id);
        merged.set(
          id,
          sum
            ? {
                cluster: addCounters(sum.cluster, counters.cluster),
                external: addCounters(sum.external, counters.external),
              }
            : counters,
        );
      }
    }
    this.counters = merged;
  }

  backends(servicePortId: string, traffic: 'cluster' | 'external' = 'cluster'): readonly BackendCounters[] {
    return this.counters.get(servicePortId)?.[traffic] ?? [];
  }

  async cleanup(): Promise<void> {
    const exits = this.workers.map(
      (worker) => new Promise((resolve) => worker.process.once('exit', resolve)),
    );
    await this.ask({ type: 'cleanup', seq: ++this.seq }, 'cleaned').catch(() => undefined);
    for (const worker of this.workers) worker.process.kill('SIGTERM');
    await Promise.all(exits);
    this.workers = [];
    this.serviceInterface?.remove();
    this.serviceInterface = undefined;
  }

  private async start(): Promise<void> {
    if (this.workers.length > 0) return;
    // Workers accept on the shared socket themselves; the primary never touches a connection.
    cluster.schedulingPolicy = cluster.SCHED_NONE;
    const source = fileURLToPath(new URL('./userspace-worker.ts', import.meta.url));
    const compiled = source.replace(/\.ts$/, '.js');
    const exec = existsSync(compiled) ? compiled : source;
    cluster.setupPrimary({
      exec,
      execArgv: [...(exec.endsWith('.ts') ? ['--import', 'tsx'] : []), ...WORKER_V8_FLAGS],
    });
    const starting = Array.from({ length: Math.max(1, this.options.workers) }, () => {
      const worker = cluster.fork();
      return new Promise<Worker>((resolve, reject) => {
        worker.once('exit', (code) => reject(new Error(`userspace worker exited (${code}) while starting`)));
        worker.on('message', function ready(message: WorkerMessage) {
          if (message.type !== 'ready') return;
          worker.off('message', ready);
          worker.send({ type: 'init', options: withoutWorkers(options) } satisfies PrimaryMessage);
          resolve(worker);
        });
      });
    });
    const options = this.options;
    this.workers = await Promise.all(starting);
  }

  /** Sends one message to every worker and resolves with their replies of the given type. */
  private ask<T extends WorkerReply['type']>(
    message: PrimaryMessage & { seq: number },
    replyType: T,
  ): Promise<Extract<WorkerReply, { type: T }>[]> {
    return Promise.all(
      this.workers.map(
        (worker) =>
          new Promise<Extract<WorkerReply, { type: T }>>((resolve, reject) => {
            const onMessage = (reply: WorkerMessage) => {
              if (reply.type !== replyType || !('seq' in reply) || reply.seq !== message.seq) return;
              worker.off('message', onMessage);
              worker.off('exit', onExit);
              resolve(reply as Extract<WorkerReply, { type: T }>);
            };
            const onExit = (code: number) => reject(new Error(`userspace worker exited (${code})`));
            worker.on('message', onMessage);
            worker.once('exit', onExit);
            worker.send(message);
          }),
      ),
    );
  }

  private placeServiceAddresses(state: ProxyState): void {
    const placement = this.options.frontendAddresses ?? (process.getuid?.() === 0 ? 'interface' : 'loopback');
    if (placement !== 'interface') return;
    const ports = [...state.servicePorts.values()].filter((servicePort) => servicePort.protocol !== 'SCTP');
    this.serviceInterface ??= new ServiceAddressInterface();
    this.serviceInterface.setAddresses(serviceAddresses(ports));
  }
}

function withoutWorkers(options: UserspaceWorkerPoolOptions): WorkerDataplaneOptions {
  const { workers: _workers, ...rest } = options;
  return rest;
}

function addCounters(a: readonly BackendCounters[], b: readonly BackendCounters[]): BackendCounters[] {
  const byEndpoint = new Map(a.map((counters) => [counters.endpoint, { ...counters }]));
  for (const counters of b) {
    const sum = byEndpoint.get(counters.endpoint);
    if (!sum) {
      byEndpoint.set(counters.endpoint, { ...counters });
      continue;
    }
    byEndpoint.set(counters.endpoint, {
      ...sum,
      connections: sum.connections + counters.connections,
      activeConns: sum.activeConns + counters.activeConns,
      inactiveConns: sum.inactiveConns + counters.inactiveConns,
      bytesFromClients: sum.bytesFromClients + counters.bytesFromClients,
      bytesToClients: sum.bytesToClients + counters.bytesToClients,
      failedConnects: sum.failedConnects + counters.failedConnects,
    });
  }
  return [...byEndpoint.values()];
}
