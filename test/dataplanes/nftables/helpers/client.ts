/**
 * A client for kernel tests: opens `count` connections one after another to host:port, each from
 * the next source address in turn, and prints, as JSON, what each got: the pod's answer, or the
 * error code (`ETIMEDOUT` when nothing answered within the timeout).
 */
import { askOnce } from '../../../fakes/ask-once.js';

interface Job {
  readonly host: string;
  readonly port: number;
  readonly count: number;
  readonly sources: readonly string[];
  readonly timeoutMs: number;
}

function once(job: Job, source: string | undefined): Promise<string> {
  return askOnce({ host: job.host, port: job.port, source, timeoutMs: job.timeoutMs });
}

const job = JSON.parse(process.argv[2] ?? '{}') as Job;
const results: string[] = [];
for (let i = 0; i < job.count; i++) results.push(await once(job, job.sources[i % job.sources.length]));
process.stdout.write(JSON.stringify(results));
