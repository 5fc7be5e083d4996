/** A worker thread of runLoadThreaded: runs its share of the load and posts the samples back. */
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { runLoad } from './load-generator.js';
import type { PortableLoadOptions, WorkerCommand, WorkerReport } from './threaded-load.js';

const data = workerData as Omit<PortableLoadOptions, 'url' | 'body'> & { url: string; body?: Uint8Array };
const startedAt = performance.timeOrigin + performance.now();
let lastReported = 0;
const stop = new AbortController();
parentPort?.on('message', (command: WorkerCommand) => {
  if (command.stop) stop.abort();
});
// Listening must not keep the thread alive once its run is over.
parentPort?.unref();
const run = await runLoad({
  ...data,
  signal: stop.signal,
  url: new URL(data.url),
  body: data.body ? Buffer.from(data.body) : undefined,
  onProgress: (done) => {
    if (done - lastReported < 500) return;
    lastReported = done;
    parentPort?.postMessage({ progress: done } satisfies WorkerReport);
  },
});
parentPort?.postMessage({
  run: {
    samples: [...run.samples],
    durationMs: run.durationMs,
    startedAt,
    bodyBytesSent: run.bodyBytesSent ?? 0,
    tls: run.tls,
    receiveError: run.receiveError,
  },
} satisfies WorkerReport);
