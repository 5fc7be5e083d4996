import type { Worker } from 'node:cluster';
import { type ErrorCode, KproxyError } from '../../errors.js';
import type { ServicePortState } from '../../model/proxy-state.js';
import type { BackendCounters } from './backend.js';
import type { Frontend } from './service-port-proxy.js';
import type { UserspaceDataplaneOptions } from './userspace-dataplane.js';

/** What a worker process may be told: the options it runs with are the plain-data ones. */
export type WorkerDataplaneOptions = Omit<
  UserspaceDataplaneOptions,
  'listenAddress' | 'random' | 'serviceInterface' | 'manageServiceInterface'
>;

/** Messages are plain JSON (the IPC channel's default serialization): maps travel as arrays. */
export type PrimaryMessage =
  | { readonly type: 'init'; readonly options: WorkerDataplaneOptions }
  | {
      readonly type: 'sync';
      readonly seq: number;
      readonly nodeName: string;
      readonly servicePorts: readonly ServicePortState[];
    }
  | { readonly type: 'counters'; readonly seq: number }
  | { readonly type: 'cleanup'; readonly seq: number };

/** One service port's backend counters in one worker, per kind of traffic. */
export interface ServicePortCounters {
  readonly cluster: readonly BackendCounters[];
  readonly external: readonly BackendCounters[];
}

export interface SerializedError {
  readonly code?: string;
  readonly message: string;
  readonly hint?: string;
}

export type WorkerMessage =
  | { readonly type: 'ready' }
  | {
      readonly type: 'synced';
      readonly seq: number;
      readonly failed: readonly (readonly [string, SerializedError])[];
      readonly frontends: readonly Frontend[];
    }
  | {
      readonly type: 'counters';
      readonly seq: number;
      readonly counters: readonly (readonly [string, ServicePortCounters])[];
    }
  | { readonly type: 'cleaned'; readonly seq: number };

export function serializeError(error: Error): SerializedError {
  return error instanceof KproxyError
    ? { code: error.code, message: error.message, hint: error.hint }
    : { message: error.message };
}

export function deserializeError(error: SerializedError): Error {
  return error.code
    ? new KproxyError(error.code as ErrorCode, error.message, { hint: error.hint })
    : new Error(error.message);
}

/** Replies that answer one request, matched by `seq`. */
export type WorkerReply = Exclude<WorkerMessage, { type: 'ready' }>;

/**
 * Sends one message to each worker and resolves with their replies of the given type. A worker that
 * exits, or does not answer within `timeoutMs` (a stuck worker must not hold every sync and every
 * metrics scrape), fails the request.
 */
export function askWorkers<T extends WorkerReply['type']>(
  workers: readonly Worker[],
  message: PrimaryMessage & { seq: number },
  replyType: T,
  timeoutMs: number,
): Promise<{ worker: Worker; reply: Extract<WorkerReply, { type: T }> }[]> {
  return Promise.all(
    workers.map(
      (worker) =>
        new Promise<{ worker: Worker; reply: Extract<WorkerReply, { type: T }> }>((resolve, reject) => {
          const done = () => {
            clearTimeout(timer);
            worker.off('message', onMessage);
            worker.off('exit', onExit);
          };
          const onMessage = (reply: WorkerMessage) => {
            if (reply.type !== replyType || !('seq' in reply) || reply.seq !== message.seq) return;
            done();
            resolve({ worker, reply: reply as Extract<WorkerReply, { type: T }> });
          };
          const onExit = (code: number) => {
            done();
            reject(new Error(`userspace worker exited (${code})`));
          };
          const timer = setTimeout(() => {
            done();
            reject(new Error(`userspace worker ${worker.process.pid} did not answer ${message.type}`));
          }, timeoutMs);
          worker.on('message', onMessage);
          worker.once('exit', onExit);
          worker.send(message);
        }),
    ),
  );
}
