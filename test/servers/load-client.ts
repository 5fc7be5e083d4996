/**
 * Load for the restart test: opens connections one after another to host:port (each from the next
 * source address) and prints one line per connection as it ends: the pod's answer, or the error
 * code (ETIMEDOUT when nothing answered in time). Stops when stdin closes, or after maxCount.
 * Usage: node --import tsx test/servers/load-client.ts '{"host":…,"port":…,"sources":[…],"timeoutMs":…,"maxCount":…}'
 */
import { askOnce } from '../fakes/ask-once.js';

interface Job {
  readonly host: string;
  readonly port: number;
  readonly sources: readonly string[];
  readonly timeoutMs: number;
  readonly maxCount: number;
}

function once(job: Job, source: string | undefined): Promise<string> {
  return askOnce({ host: job.host, port: job.port, source, timeoutMs: job.timeoutMs });
}

const job = JSON.parse(process.argv[2] ?? '{}') as Job;
let stopped = false;
process.stdin.on('close', () => {
  stopped = true;
});
process.stdin.resume();
for (let i = 0; i < job.maxCount && !stopped; i++) {
  process.stdout.write(`${await once(job, job.sources[i % job.sources.length])}\n`);
}
process.stdin.destroy();
