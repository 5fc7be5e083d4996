/** A worker thread of runLoadThreaded: runs its share of the load and posts the samples back. */
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { runLoad } from './load-generator.js';
import type { PortableLoadOptions, WorkerCommand, WorkerReport } from './threaded-load.js';

const data = workerData as Omit<PortableLoadOptions, 'url' | 'body'> & { url: string; body?: Uint8Array };
let lastReported = 0;
const stop = new AbortController();
let go: () => void = () => {};
const started = new Promise<void>((resolve) => {
  go = resolve;
});
parentPort?.on('message', (command: WorkerCommand) => {
  if (command.go) go();
  if (command.stop) stop.abort();
});
// All threads start together, once each has loaded: none runs alone while another starts up.
parentPort?.postMessage({ ready: true } satisfies WorkerReport);
await started;
// Listening must not keep the thread alive once its run is over.
parentPort?.unref();
const startedAt = performance.timeOrigin + performance.now();
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
