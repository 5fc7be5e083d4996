/**
 * The userspace data plane against its targets, in one run:
 *  1. throughput — kproxy userspace (one process, and two worker processes, compiled as the node
 *     image runs it; one process from the sources through tsx, as bin/kproxy.js runs it) beside
 *     HAProxy (`mode tcp`, roundrobin), the naive socket.pipe proxy, a bare relay on the same TCP
 *     handles with no data plane above them (bench/lib/bare-relay.ts, compiled) and a direct
 *     connection; three nginx backends, wrk keep-alive and `Connection: close`; ratios to HAProxy (targets:
 *     keep-alive ≥ 1.0×, new connections ≥ 0.75×, p99 ≤ 1.5×);
 *  2. memory — RSS of one proxy process, compiled, with 10,000 open client connections, or as many
 *     as the host's descriptor limit allows (target ≤ 150 MiB);
 *  3. start — time from a known state with 1,000 Services to all of them listening (target ≤ 1 s).
 * Env: BENCH_SECONDS (default 5), BENCH_CONNECTIONS (default 50), BENCH_ROUNDS (default 3; the
 * targets are measured in turn each round and each keeps its median).
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { UserspaceDataplane } from '../src/dataplanes/userspace/userspace-dataplane.js';
import { formatTable } from '../src/lab/load/print-summary.js';
import { podEndpoint, servicePortState, startTcpPod, stateOf } from '../test/dataplanes/userspace/helpers.js';
import type { FixtureProcess } from '../test/dataplanes/userspace/processes.js';
import { type CompiledBuild, compileProject } from './lib/compiled-build.js';
import { startHaproxy } from './lib/haproxy.js';
import { startNginxBackends } from './lib/nginx-backends.js';
import { freePort, startProcess, stopProcess } from './lib/processes.js';
import { compiledFixture, startProxy } from './lib/userspace-proxy.js';
import { runWrk, type WrkResult } from './lib/wrk.js';
import { writeBenchResults } from './results.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const podHosts = ['127.0.0.11', '127.0.0.12', '127.0.0.13'];

interface Row {
  readonly target: string;
  readonly keepAlive: WrkResult;
  readonly newConnection: WrkResult;
}

interface Target {
  readonly name: string;
  readonly host: string;
  readonly port: number;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

function medianResult(results: readonly WrkResult[]): WrkResult {
  return {
    requestsPerSecond: median(results.map((r) => r.requestsPerSecond)),
    p99Ms: median(results.map((r) => r.p99Ms)),
    errors: results.reduce((sum, r) => sum + r.errors, 0),
  };
}

/**
 * Measures every target in turn, `rounds` times over, and keeps each target's median: on a shared
 * machine the load changes from minute to minute, and interleaving spreads that over all targets.
 */
function measureRounds(targets: readonly Target[]): Row[] {
  const runs = new Map(
    targets.map((t) => [t.name, { keepAlive: [] as WrkResult[], close: [] as WrkResult[] }]),
  );
  for (let round = 0; round < rounds; round++) {
    for (const target of targets) {
      const options = { url: `http://${target.host}:${target.port}/`, threads: 1, connections, seconds };
      runs.get(target.name)?.keepAlive.push(runWrk({ ...options, newConnections: false }));
      runs.get(target.name)?.close.push(runWrk({ ...options, newConnections: true }));
    }
    console.log(`round ${round + 1} of ${rounds} measured`);
  }
  return targets.map((target) => ({
    target: target.name,
    keepAlive: medianResult(runs.get(target.name)?.keepAlive ?? []),
    newConnection: medianResult(runs.get(target.name)?.close ?? []),
  }));
}

async function throughput(build: CompiledBuild): Promise<Row[]> {
  const port = await freePort();
  const backends = podHosts.map((host) => `${host}:${port}`);
  const children: ChildProcess[] = [];
  const proxies: FixtureProcess[] = [];
  const proxy = async (workers: number, compiled: boolean) => {
    const started = await startProxy(workers, backends, compiled ? build : undefined);
    proxies.push(started.process);
    return started.port;
  };
  try {
    children.push(await startNginxBackends(podHosts.map((host, i) => ({ name: `pod-${i}`, host, port }))));
    const haproxyPort = await freePort();
    children.push(await startHaproxy(haproxyPort, backends));
    const naivePort = await freePort();
    const naiveScript = fileURLToPath(new URL('./lib/naive-pipe-proxy.ts', import.meta.url));
    children.push(
      await startProcess(
        process.execPath,
        ['--import', 'tsx', naiveScript, String(naivePort), ...backends],
        /LISTENING \d+/,
      ),
    );
    const barePort = await freePort();
    children.push(
      await startProcess(
        process.execPath,
        [build.path('bench/lib/bare-relay.ts'), String(barePort), ...backends],
        /LISTENING \d+/,
      ),
    );
    const loopback = '127.0.0.1';
    return measureRounds([
      { name: 'direct (one nginx backend)', host: podHosts[0] ?? loopback, port },
      { name: 'haproxy mode tcp, roundrobin', host: loopback, port: haproxyPort },
      { name: 'kproxy userspace, rr, 1 process', host: loopback, port: await proxy(0, true) },
      { name: 'kproxy userspace, rr, 2 workers', host: loopback, port: await proxy(2, true) },
      { name: 'kproxy userspace, 1 process, via tsx', host: loopback, port: await proxy(0, false) },
      { name: 'bare relay, same handles, no data plane', host: loopback, port: barePort },
      { name: 'naive node socket.pipe proxy', host: loopback, port: naivePort },
    ]);
  } finally {
    for (const started of proxies) await started.stop();
    for (const child of children.reverse()) await stopProcess(child);
  }
}

/** Open descriptors one process may hold here (`ulimit -n`, from /proc/self/limits). */
function descriptorLimit(): number {
  const limits = readFileSync('/proc/self/limits', 'utf8');
  return Number(/Max open files\s+(\d+)/.exec(limits)?.[1] ?? 1024);
}

/**
 * RSS of one proxy process — what `kproxy run` runs in userspace mode — from the compiled build
 * (as the image runs it), idle and with `wanted` client connections open through it, or as many as
 * this host's descriptor limit allows: each proxied connection holds two descriptors.
 */
async function memoryOfOneProcess(build: CompiledBuild, wanted: number) {
  const count = Math.min(wanted, Math.floor((descriptorLimit() - 100) / 2));
  const fixture = (name: string, args: readonly string[]) => compiledFixture(build, name, args);
  const started: FixtureProcess[] = [];
  try {
    const pods = fixture('pods-process.ts', []);
    started.push(pods);
    const podPorts = (await pods.line(/^PODS (.+)$/))[1]?.split(' ') ?? [];
    const { process: proxy, port } = await startProxy(
      0,
      podPorts.map((podPort) => `127.0.0.1:${podPort}`),
      build,
    );
    started.push(proxy);
    const rssMiB = async () => {
      const stats = proxy.line(/^\{.*\}$/);
      proxy.child.stdin?.write('stats\n');
      return (JSON.parse((await stats)[0]) as { rss: number }).rss / 2 ** 20;
    };
    const idleMiB = await rssMiB();
    const clients = fixture('many-clients.ts', [String(port), String(count)]);
    started.push(clients);
    const [, greeted] = await clients.line(/^OPEN (\d+) (\d+)/, 120_000);
    if (Number(greeted) !== count) throw new Error(`only ${greeted} of ${count} connections came through`);
    const openMiB = await rssMiB();
    return {
      connections: count,
      wanted,
      idleMiB,
      openMiB,
      perConnectionKiB: ((openMiB - idleMiB) * 1024) / count,
    };
  } finally {
    for (const child of started.reverse()) await child.stop();
  }
}

/** Milliseconds from a state with `count` Services to all of them listening (loopback). */
async function startTime(count: number): Promise<number> {
  const pod = await startTcpPod('pod-a');
  const ports = Array.from({ length: count }, (_, i) =>
    servicePortState([podEndpoint(pod)], {
      id: `bench/svc-${i}:http`,
      name: `svc-${i}`,
      clusterIPs: [`10.96.${i >> 8}.${i & 255}`],
    }),
  );
  const dataplane = new UserspaceDataplane({
    scheduler: 'rr',
    listenAddress: () => ({ host: '127.0.0.1', port: 0 }),
  });
  try {
    const start = performance.now();
    const result = await dataplane.sync(stateOf(...ports));
    const elapsed = performance.now() - start;
    if (result.failed.size > 0 || dataplane.frontends().length !== count)
      throw new Error('not all Services listen');
    return elapsed;
  } finally {
    await dataplane.cleanup();
    await pod.kill();
  }
}

const build = compileProject();
let rows: Row[];
let memory: Awaited<ReturnType<typeof memoryOfOneProcess>>;
try {
  rows = await throughput(build);
  memory = await memoryOfOneProcess(build, 10_000);
} finally {
  build.remove();
}
const startMs = await startTime(1000);

const haproxy = rows.find((row) => row.target.startsWith('haproxy'));
const ratio = (value: number, anchor: number | undefined) =>
  anchor ? `${(value / anchor).toFixed(2)}x` : '-';
console.log(
  `\nwrk -t1 -c${connections} -d${seconds}s, three nginx backends; median of ${rounds} interleaved rounds; ratios vs HAProxy\n`,
);
console.log(
  formatTable(
    [
      'TARGET',
      'KEEP-ALIVE REQ/S',
      'RATIO',
      'NEW-CONN REQ/S',
      'RATIO',
      'P99 KA MS',
      'RATIO',
      'P99 NEW MS',
      'RATIO',
    ],
    rows.map((row) => [
      row.target,
      row.keepAlive.requestsPerSecond.toFixed(0),
      ratio(row.keepAlive.requestsPerSecond, haproxy?.keepAlive.requestsPerSecond),
      row.newConnection.requestsPerSecond.toFixed(0),
      ratio(row.newConnection.requestsPerSecond, haproxy?.newConnection.requestsPerSecond),
      row.keepAlive.p99Ms.toFixed(2),
      ratio(row.keepAlive.p99Ms, haproxy?.keepAlive.p99Ms),
      row.newConnection.p99Ms.toFixed(2),
      ratio(row.newConnection.p99Ms, haproxy?.newConnection.p99Ms),
    ]),
  ),
);
const atTenThousand = memory.idleMiB + (memory.perConnectionKiB * 10_000) / 1024;
console.log(
  `\nmemory, one process (compiled): ${memory.openMiB.toFixed(1)} MiB RSS with ${memory.connections} open connections` +
    ` (idle ${memory.idleMiB.toFixed(1)} MiB, ${memory.perConnectionKiB.toFixed(1)} KiB per connection` +
    `${memory.connections < memory.wanted ? `; ${memory.wanted} would not fit this host's descriptor limit: ${atTenThousand.toFixed(1)} MiB at that rate` : ''}); target ≤ 150 MiB`,
);
console.log(
  `start: 1,000 Services listening ${startMs.toFixed(0)} ms after the state is known; target ≤ 1000 ms`,
);
writeBenchResults('userspace', { seconds, connections, rounds, rows, memory, startMs });
