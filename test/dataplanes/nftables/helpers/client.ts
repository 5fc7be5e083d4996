/**
 * A client for kernel tests: opens `count` connections one after another to host:port, each from
 * the next source address in turn, and prints, as JSON, what each got: the pod's answer, or the
 * error code (`ETIMEDOUT` when nothing answered within the timeout).
 */
import { connect } from 'node:net';

interface Job {
  readonly host: string;
  readonly port: number;
  readonly count: number;
  readonly sources: readonly string[];
  readonly timeoutMs: number;
}

function once(job: Job, source: string | undefined): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: job.host, port: job.port, localAddress: source });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('ETIMEDOUT');
    }, job.timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(error.code ?? 'ERROR');
    });
  });
}

const job = JSON.parse(process.argv[2] ?? '{}') as Job;
const results: string[] = [];
for (let i = 0; i < job.count; i++) results.push(await once(job, job.sources[i % job.sources.length]));
process.stdout.write(JSON.stringify(results));
