/**
 * Data path: kproxy's userspace proxy (compiled, as the node image runs it) beside a direct
 * connection, HAProxy (`mode tcp`, round robin), a naive Node `socket.pipe` proxy, and kernel DNAT
 * (iptables `statistic random`, in a private network namespace, root only) — three nginx
 * backends, wrk on loopback, one run.
 * Reports keep-alive req/s, new-connection (`Connection: close`) req/s and p99, and each as a
 * ratio to HAProxy. Env: BENCH_SECONDS (default 5), BENCH_CONNECTIONS (default 50).
 */
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { formatTable } from '../src/lab/load/print-summary.js';
import type { FixtureProcess } from '../test/dataplanes/userspace/processes.js';
import { compileProject } from './lib/compiled-build.js';
import { createDnatNamespace, type DnatNamespace } from './lib/dnat-namespace.js';
import { startHaproxy } from './lib/haproxy.js';
import { startNginxBackends } from './lib/nginx-backends.js';
import { freePort, hasCommand, isRoot, startProcess, stopProcess } from './lib/processes.js';
import { startProxy } from './lib/userspace-proxy.js';
import { runWrk, type WrkResult } from './lib/wrk.js';
import { writeBenchResults } from './results.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const podHosts = ['127.0.0.11', '127.0.0.12', '127.0.0.13'];

interface Row {
  readonly target: string;
  readonly keepAlive: WrkResult;
  readonly newConnection: WrkResult;
}

for (const tool of ['wrk', 'nginx', 'haproxy']) {
  if (!hasCommand(tool))
    throw new Error(`${tool} is not installed (apt-get install wrk nginx-light haproxy)`);
}

const port = await freePort();
const backends = podHosts.map((host) => `${host}:${port}`);
const children: ChildProcess[] = [];
const fixtures: FixtureProcess[] = [];
const build = compileProject();
const rows: Row[] = [];
let namespace: DnatNamespace | undefined;

function measure(target: string, url: string, exec?: readonly string[]): void {
  const options = { url, threads: 1, connections, seconds, exec };
  rows.push({
    target,
    keepAlive: runWrk({ ...options, newConnections: false }),
    newConnection: runWrk({ ...options, newConnections: true }),
  });
  console.log(`measured ${target}`);
}

/** Starts a proxy script in its own process on a free port and returns the port. */
async function startProxyProcess(script: string, args: readonly string[]): Promise<number> {
  const proxyPort = await freePort();
  const scriptPath = fileURLToPath(new URL(script, import.meta.url));
  children.push(
    await startProcess(
      process.execPath,
      ['--import', 'tsx', scriptPath, String(proxyPort), ...args],
      /LISTENING \d+/,
    ),
  );
  return proxyPort;
}

try {
  children.push(await startNginxBackends(podHosts.map((host, i) => ({ name: `pod-${i}`, host, port }))));
  measure('direct (one nginx backend)', `http://${backends[0]}/`);

  const haproxyPort = await freePort();
  children.push(await startHaproxy(haproxyPort, backends));
  measure('haproxy mode tcp, roundrobin', `http://127.0.0.1:${haproxyPort}/`);

  const kproxy = await startProxy(0, backends, build);
  fixtures.push(kproxy.process);
  measure('kproxy userspace, rr (compiled)', `http://127.0.0.1:${kproxy.port}/`);

  const naivePort = await startProxyProcess('./lib/naive-pipe-proxy.ts', backends);
  measure('naive node socket.pipe proxy', `http://127.0.0.1:${naivePort}/`);

  if (isRoot) {
    namespace = createDnatNamespace(3, port);
    const inner = namespace;
    for (const [i, host] of inner.backendIPs.entries()) {
      children.push(await startNginxBackends([{ name: `pod-${i}`, host, port }], inner.exec));
    }
    measure('kernel DNAT (iptables statistic), netns', `http://${inner.serviceIP}:${port}/`, inner.exec);
  } else {
    console.log('kernel DNAT skipped: needs root for a private network namespace');
  }
} finally {
  for (const fixture of fixtures) await fixture.stop();
  build.remove();
  for (const child of children.reverse()) await stopProcess(child);
  namespace?.remove();
}

const haproxy = rows.find((row) => row.target.startsWith('haproxy'));
const ratio = (value: number, anchor: number | undefined) =>
  anchor ? `${(value / anchor).toFixed(2)}x` : '-';
console.log(
  `\nwrk -t1 -c${connections} -d${seconds}s, three nginx backends (one process, one worker each); ratios vs HAProxy\n`,
);
console.log(
  formatTable(
    ['TARGET', 'KEEP-ALIVE REQ/S', 'RATIO', 'NEW-CONN REQ/S', 'RATIO', 'P99 KA MS', 'P99 NEW MS', 'ERRORS'],
    rows.map((row) => [
      row.target,
      row.keepAlive.requestsPerSecond.toFixed(0),
      ratio(row.keepAlive.requestsPerSecond, haproxy?.keepAlive.requestsPerSecond),
      row.newConnection.requestsPerSecond.toFixed(0),
      ratio(row.newConnection.requestsPerSecond, haproxy?.newConnection.requestsPerSecond),
      row.keepAlive.p99Ms.toFixed(2),
      row.newConnection.p99Ms.toFixed(2),
      String(row.keepAlive.errors + row.newConnection.errors),
    ]),
  ),
);
writeBenchResults('proxy-throughput', { seconds, connections, rows });
