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
import { PoolCounters } from './worker-counters.js';
import {
  askWorkers,
  deserializeError,
  type PrimaryMessage,
  type ServicePortCounters,
  type WorkerDataplaneOptions,
  type WorkerMessage,
  type WorkerReply,
} from './worker-protocol.js';

/** How long a worker must have lived for its death to be replaced at once. */
const YOUNG_WORKER_MS = 10_000;
const FIRST_RESTART_PAUSE_MS = 1_000;
const MAX_RESTART_PAUSE_MS = 30_000;
/** How long a worker may take to answer a sync, a counters request or a cleanup. */
const ANSWER_TIMEOUT_MS = 30_000;

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
  private readonly poolCounters = new PoolCounters<Worker>();
  private serviceInterface: ServiceAddressInterface | undefined;
  /** The last state sent, for a worker that replaces one that died. */
  private lastSync: Extract<PrimaryMessage, { type: 'sync' }> | undefined;
  private started = false;
  /** Changes with each start and cleanup, so a replacement started before a cleanup is not kept. */
  private generation = 0;

  constructor(private readonly options: UserspaceWorkerPoolOptions) {}

  async sync(state: ProxyState): Promise<SyncResult> {
    await this.start();
    this.placeServiceAddresses(state);
    const servicePorts = [...state.servicePorts.values()];
    this.lastSync = { type: 'sync', seq: ++this.seq, nodeName: state.nodeName, servicePorts };
    const replies = await this.ask(this.lastSync, 'synced');
    const failed = new Map<string, Error>();
    for (const { reply } of replies) {
      for (const [id, error] of reply.failed) if (!failed.has(id)) failed.set(id, deserializeError(error));
    }
    this.lastFrontends = replies[0]?.reply.frontends ?? [];
    return { failed };
  }

  frontends(): Frontend[] {
    return [...this.lastFrontends];
  }

  /** Asks every worker for its counters; `backends` returns the sums until the next call. */
  async collectCounters(): Promise<void> {
    const replies = await this.ask({ type: 'counters', seq: ++this.seq }, 'counters');
    // A worker that died while the others answered was retired with its previous answer.
    for (const { worker, reply } of replies) {
      if (this.workers.includes(worker)) this.poolCounters.record(worker, reply.counters);
    }
    this.counters = this.poolCounters.sums();
  }

  backends(servicePortId: string, traffic: 'cluster' | 'external' = 'cluster'): readonly BackendCounters[] {
    return this.counters.get(servicePortId)?.[traffic] ?? [];
  }

  async cleanup(): Promise<void> {
    this.generation++;
    this.started = false;
    this.lastSync = undefined;
    const workers = this.workers;
    this.workers = [];
    const exits = workers.map((worker) => new Promise((resolve) => worker.process.once('exit', resolve)));
    await askWorkers(workers, { type: 'cleanup', seq: ++this.seq }, 'cleaned', ANSWER_TIMEOUT_MS).catch(
      () => undefined,
    );
    for (const worker of workers) worker.process.kill('SIGTERM');
    await Promise.all(exits);
    this.serviceInterface?.remove();
    this.serviceInterface = undefined;
  }

  private async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const generation = ++this.generation;
    // Workers accept on the shared socket themselves; the primary never touches a connection.
    cluster.schedulingPolicy = cluster.SCHED_NONE;
    const source = fileURLToPath(new URL('./userspace-worker.ts', import.meta.url));
    const compiled = source.replace(/\.ts$/, '.js');
    const exec = existsSync(compiled) ? compiled : source;
    cluster.setupPrimary({
      exec,
      // Workers keep V8's default young generation, as the one-process proxy does: a 2 MiB one made
      // each worker ~20 MiB smaller but took 3.5% off its new connections (docs/BENCHMARKS.md).
      execArgv: exec.endsWith('.ts') ? ['--import', 'tsx'] : [],
    });
    const count = Math.max(1, this.options.workers);
    const forks = await Promise.allSettled(Array.from({ length: count }, () => this.fork(generation)));
    const workers = forks.flatMap((fork) => (fork.status === 'fulfilled' ? [fork.value] : []));
    const failure = forks.find((fork) => fork.status === 'rejected');
    if (failure) {
      // All or none: the next sync starts the pool afresh.
      this.started = false;
      this.generation++;
      for (const worker of workers) worker.process.kill('SIGTERM');
      throw failure.reason;
    }
    this.workers = workers;
  }

  /** Starts one worker and resolves once it has its options; a worker that dies later is replaced. */
  private fork(generation: number): Promise<Worker> {
    const worker = cluster.fork();
    const bornAt = Date.now();
    const init: PrimaryMessage = { type: 'init', options: withoutWorkers(this.options) };
    return new Promise<Worker>((resolve, reject) => {
      const failedToStart = (code: number) =>
        reject(new Error(`userspace worker exited (${code}) while starting`));
      const ready = (message: WorkerMessage) => {
        if (message.type !== 'ready') return;
        worker.off('message', ready);
        worker.off('exit', failedToStart);
        worker.send(init);
        worker.once('exit', (code, signal) => this.replace({ worker, generation, bornAt }, code ?? signal));
        resolve(worker);
      };
      worker.once('exit', failedToStart);
      worker.on('message', ready);
    });
  }

  /**
   * A worker died: its open connections are gone with it, and the others keep accepting on the
   * shared sockets. A new worker takes its place with the last state, so capacity comes back. One
   * that died young is replaced after a pause, so a crash loop does not spin; a replacement that
   * cannot start is tried again after a pause that doubles, up to 30 s.
   */
  private replace(dead: { worker: Worker; generation: number; bornAt: number }, how: number | string): void {
    if (dead.generation !== this.generation) return;
    log.error('worker-pool.ts', 'Userspace worker exited; starting another', {
      pid: dead.worker.process.pid,
      exit: how,
    });
    this.workers = this.workers.filter((worker) => worker !== dead.worker);
    this.poolCounters.retire(dead.worker);
    const livedLong = Date.now() - dead.bornAt > YOUNG_WORKER_MS;
    this.startReplacement(dead.generation, livedLong ? 0 : FIRST_RESTART_PAUSE_MS);
  }

  private startReplacement(generation: number, pauseMs: number): void {
    setTimeout(() => {
      if (generation !== this.generation) return;
      this.fork(generation).then(
        (worker) => {
          if (generation !== this.generation) {
            worker.process.kill('SIGTERM');
            return;
          }
          this.workers.push(worker);
          if (this.lastSync) worker.send({ ...this.lastSync, seq: ++this.seq });
        },
        (error: unknown) => {
          log.error('worker-pool.ts', 'Could not start a userspace worker; trying again', {
            error: String(error),
          });
          this.startReplacement(generation, Math.min(MAX_RESTART_PAUSE_MS, Math.max(pauseMs, 500) * 2));
        },
      );
    }, pauseMs).unref();
  }

  /** Sends one message to every worker and resolves with their replies of the given type. */
  private ask<T extends WorkerReply['type']>(message: PrimaryMessage & { seq: number }, replyType: T) {
    return askWorkers(this.workers, message, replyType, ANSWER_TIMEOUT_MS);
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
