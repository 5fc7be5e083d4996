import { Worker } from 'node:worker_threads';
import { type LoadOptions, runLoad } from './load-generator.js';
import type { LoadRun, ReceiveError, RequestSample } from './sample.js';
import type { TlsInfo } from './tls-client.js';

/** Load options that can cross into a worker thread (no functions). */
export type PortableLoadOptions = Omit<LoadOptions, 'pathFor' | 'onProgress' | 'signal'>;

/** What the parent sends a worker thread: start (all are ready), or stop (a receive error elsewhere). */
export interface WorkerCommand {
  readonly go?: true;
  readonly stop?: true;
}

/** What a worker thread sends back. */
export interface WorkerReport {
  /** Loaded and waiting for `go`. */
  readonly ready?: true;
  readonly progress?: number;
  readonly run?: {
    samples: RequestSample[];
    durationMs: number;
    startedAt: number;
    bodyBytesSent: number;
    tls?: TlsInfo;
    receiveError?: ReceiveError;
  };
}

/**
 * Runs the load on `threads` worker threads (one event loop alone cannot open connections as fast
 * as a C client), each with its share of the concurrency, and merges the samples into one run on
 * one clock. The threads start together once all have loaded, and take requests from one shared
 * counter, so none runs alone at the start or the end. One thread runs in-process.
 */
export async function runLoadThreaded(
  options: PortableLoadOptions & { onProgress?: (done: number) => void },
  threads: number,
): Promise<LoadRun> {
  const count = Math.max(1, Math.min(threads, options.concurrency, options.requests));
  if (count === 1) return runLoad(options);
  const progress = new Array<number>(count).fill(0);
  const { onProgress, ...portable } = options;
  const workers: Worker[] = [];
  const sendAll = (command: WorkerCommand) => {
    for (const worker of workers) worker.postMessage(command);
  };
  let ready = 0;
  const sharedCounter = new Int32Array(new SharedArrayBuffer(4));
  const parts = await Promise.all(
    Array.from({ length: count }, (_, i) => {
      const worker = startWorker({
        ...portable,
        sharedCounter,
        concurrency: share(options.concurrency, count, i),
      });
      workers.push(worker);
      return resultOf(worker, {
        ready: () => {
          if (++ready === count) sendAll({ go: true });
        },
        // A receive error ends the whole run, as in one thread: the other threads stop too.
        receiveError: () => sendAll({ stop: true }),
        progress: (done) => {
          progress[i] = done;
          onProgress?.(progress.reduce((a, b) => a + b, 0));
        },
      });
    }),
  );
  // The run starts when the first thread starts sending, not when the threads were spawned.
  const started = Math.min(...parts.map((part) => part.startedAt));
  const samples: RequestSample[] = [];
  let end = started;
  for (const part of parts) {
    const offset = part.startedAt - started;
    for (const sample of part.samples) samples.push({ ...sample, startMs: sample.startMs + offset });
    end = Math.max(end, part.startedAt + part.durationMs);
  }
  return {
    url: options.url,
    concurrency: options.concurrency,
    keepAlive: options.keepAlive,
    durationMs: end - started,
    samples,
    bodyBytesSent: parts.reduce((total, part) => total + part.bodyBytesSent, 0),
    variableLength: options.variableLength,
    tls: parts.find((part) => part.tls)?.tls,
    receiveError: receiveErrorOf(parts, samples.length),
  };
}

function receiveErrorOf(
  parts: readonly NonNullable<WorkerReport['run']>[],
  completed: number,
): ReceiveError | undefined {
  const error = parts.find((part) => part.receiveError)?.receiveError;
  return error ? { ...error, completed } : undefined;
}

function share(total: number, parts: number, index: number): number {
  return Math.floor(total / parts) + (index < total % parts ? 1 : 0);
}

function startWorker(options: PortableLoadOptions): Worker {
  // Under tsx, import.meta.url may carry a query; the file's own extension says what to load.
  const here = new URL(import.meta.url);
  here.search = '';
  const workerFile = new URL(`./load-worker${here.pathname.endsWith('.ts') ? '.ts' : '.js'}`, here);
  // Under tsx the worker must load TypeScript too: bootstrap it through tsx's API.
  const source = workerFile.pathname.endsWith('.ts')
    ? `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => m.tsImport(${JSON.stringify(workerFile.href)}, ${JSON.stringify(here.href)}))`
    : `import(${JSON.stringify(workerFile.href)})`;
  return new Worker(source, {
    eval: true,
    workerData: { ...options, url: options.url.href },
  });
}

function resultOf(
  worker: Worker,
  on: { ready(): void; receiveError(): void; progress(done: number): void },
): Promise<NonNullable<WorkerReport['run']>> {
  return new Promise((resolve, reject) => {
    worker.on('message', (report: WorkerReport) => {
      if (report.ready) on.ready();
      if (report.progress !== undefined) on.progress(report.progress);
      if (report.run?.receiveError) on.receiveError();
      if (report.run) resolve(report.run);
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`load worker exited with ${code}`));
    });
  });
}
