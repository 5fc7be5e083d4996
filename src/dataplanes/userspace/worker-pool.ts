import cluster, { type Worker } from 'node:cluster';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { log } from '../../log.js';
import type { ProxyState } from '../../model/proxy-state.js';
import type { Dataplane, SyncResult } from '../dataplane.js';
import { ServiceAddressInterface } from '../service-address-interface.js';
import type { BackendCounters } from './backend.js';
import type { Frontend } from './service-port-proxy.js';
import { serviceAddresses } from './userspace-dataplane.js';
import { closedOnly, sumCounters } from './worker-counters.js';
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
  /** The last state sent, for a worker that replaces one that died. */
  private lastSync: Extract<PrimaryMessage, { type: 'sync' }> | undefined;
  private stopping = false;
  /** Workers started again after one died. */
  restarts = 0;
  /** Each worker's counters at the last collection. */
  private lastCounters = new Map<Worker, readonly (readonly [string, ServicePortCounters])[]>();
  /**
   * What workers that died had counted (their last collection, without their open connections):
   * the cumulative counts reported never go back when a worker is replaced.
   */
  private retiredCounters: (readonly [string, ServicePortCounters])[] = [];

  constructor(private readonly options: UserspaceWorkerPoolOptions) {}

  async sync(state: ProxyState): Promise<SyncResult> {
    await this.start();
    this.placeServiceAddresses(state);
    const servicePorts = [...state.servicePorts.values()];
    this.lastSync = { type: 'sync', seq: ++this.seq, nodeName: state.nodeName, servicePorts };
    const replies = await this.ask(this.lastSync, 'synced');
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
    const asked = [...this.workers];
    const replies = await this.ask({ type: 'counters', seq: ++this.seq }, 'counters');
    replies.forEach((reply, i) => {
      const worker = asked[i];
      if (worker) this.lastCounters.set(worker, reply.counters);
    });
    this.counters = sumCounters([...replies.map((reply) => reply.counters), this.retiredCounters]);
  }

  backends(servicePortId: string, traffic: 'cluster' | 'external' = 'cluster'): readonly BackendCounters[] {
    return this.counters.get(servicePortId)?.[traffic] ?? [];
  }

  async cleanup(): Promise<void> {
    this.stopping = true;
    this.lastSync = undefined;
    this.lastCounters = new Map();
    this.retiredCounters = [];
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
    this.stopping = false;
    const count = Math.max(1, this.options.workers);
    this.workers = await Promise.all(Array.from({ length: count }, () => this.fork()));
  }

  /** Starts one worker and resolves once it has its options; a worker that dies later is replaced. */
  private fork(): Promise<Worker> {
    const worker = cluster.fork();
    const init: PrimaryMessage = { type: 'init', options: withoutWorkers(this.options) };
    return new Promise<Worker>((resolve, reject) => {
      const failedToStart = (code: number) =>
        reject(new Error(`userspace worker exited (${code}) while starting`));
      worker.once('exit', failedToStart);
      worker.on('message', (message: WorkerMessage) => {
        if (message.type !== 'ready') return;
        worker.send(init);
        worker.off('exit', failedToStart);
        worker.once('exit', (code, signal) => this.replace(worker, code ?? signal));
        resolve(worker);
      });
    });
  }

  /**
   * A worker died: its open connections are gone with it, and the others keep accepting on the
   * shared sockets. A new worker takes its place with the last state, so capacity comes back.
   */
  private replace(dead: Worker, how: number | string): void {
    if (this.stopping) return;
    log.error('worker-pool.ts', 'Userspace worker exited; starting another', {
      pid: dead.process.pid,
      exit: how,
    });
    this.restarts++;
    this.workers = this.workers.filter((worker) => worker !== dead);
    for (const [id, counters] of this.lastCounters.get(dead) ?? []) {
      this.retiredCounters.push([id, closedOnly(counters)]);
    }
    this.lastCounters.delete(dead);
    void this.fork()
      .then((worker) => {
        if (this.stopping) {
          worker.process.kill('SIGTERM');
          return;
        }
        this.workers.push(worker);
        if (this.lastSync) worker.send({ ...this.lastSync, seq: ++this.seq });
      })
      .catch((error: unknown) =>
        log.error('worker-pool.ts', 'Could not start a userspace worker', { error: String(error) }),
      );
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
