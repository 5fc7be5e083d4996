/**
 * A demo pod as a child process, for pods that live in their own network namespace
 * (`ip netns exec POD node pod-child NAME HOST PORT`). It prints `ready` once listening, then
 * `REQUESTS OPEN` whenever either count changes (checked every 5 ms), and `= REQUESTS OPEN` in
 * answer to each line on its stdin, so the parent can ask for counts that are exact.
 */
import { createInterface } from 'node:readline';
import { startDemoPod } from './demo-pods.js';

const [name = 'pod', host = '0.0.0.0', port = '8080'] = process.argv.slice(2);
const pod = await startDemoPod(name, host, Number(port));
const counts = () => `${pod.requests()} ${pod.openConnections()}`;
process.stdout.write('ready\n');
let last = '';
setInterval(() => {
  const line = counts();
  if (line === last) return;
  last = line;
  process.stdout.write(`${line}\n`);
}, 5).unref();
createInterface({ input: process.stdin }).on('line', () => process.stdout.write(`= ${counts()}\n`));
