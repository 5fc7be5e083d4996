/**
 * The load generator as a child process, for clients that live in another network namespace
 * (`ip netns exec CLIENT node load-child …`): reads its options as JSON on stdin, reports progress
 * on stderr (`progress N`), and writes the run's samples as JSON on stdout.
 */
import { text } from 'node:stream/consumers';
import { runLoad } from './load-generator.js';
import type { ChildLoadOptions } from './netns-load.js';

const options = JSON.parse(await text(process.stdin)) as ChildLoadOptions;
const { paths } = options;
const step = Math.max(1, Math.floor(options.requests / 200));
const run = await runLoad({
  ...options,
  url: new URL(options.url),
  body: options.bodyBase64 ? Buffer.from(options.bodyBase64, 'base64') : undefined,
  pathFor: paths && paths.length > 0 ? (index) => paths[index % paths.length] ?? '/' : undefined,
  onProgress: (done) => {
    if (done % step === 0) process.stderr.write(`progress ${done}\n`);
  },
});
process.stdout.write(
  JSON.stringify({ durationMs: run.durationMs, samples: run.samples, bodyBytesSent: run.bodyBytesSent }),
);
