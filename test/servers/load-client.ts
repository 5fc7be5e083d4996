/**
 * Load for the restart test: opens connections one after another to host:port (each from the next
 * source address) and prints one line per connection as it ends: the pod's answer, or the error
 * code (ETIMEDOUT when nothing answered in time). Stops when stdin closes, or after maxCount.
 * Usage: node --import tsx test/servers/load-client.ts '{"host":…,"port":…,"sources":[…],"timeoutMs":…,"maxCount":…}'
 */
import { connect } from 'node:net';

interface Job {
  readonly host: string;
  readonly port: number;
  readonly sources: readonly string[];
  readonly timeoutMs: number;
  readonly maxCount: number;
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
let stopped = false;
process.stdin.on('close', () => {
  stopped = true;
});
process.stdin.resume();
for (let i = 0; i < job.maxCount && !stopped; i++) {
  process.stdout.write(`${await once(job, job.sources[i % job.sources.length])}\n`);
}
process.stdin.destroy();
