/**
 * The load generator against ab, wrk and autocannon on one nginx target, each in its own process
 * with the same concurrency:
 *   new connections: kproxy bench (one thread, two) vs ab vs wrk (Connection: close; one thread,
 *                    and two — the most this machine's two cores give any client) — target ≥ 1.5× ab;
 *   keep-alive:      kproxy bench -k (one thread, two) vs ab -k vs wrk vs autocannon — target ≥ 1.0×
 *                    autocannon;
 *   agreement:       the req/s kproxy bench and ab report for the same settings (±15%).
 * On a shared 2-core machine the load moves from minute to minute: every tool runs once per round,
 * in turn, for BENCH_ROUNDS rounds (default 3). A tool's figure is its median; a ratio is the
 * median of the ratios within each round (both measured minutes apart at most), with its range.
 * Beside each run, nginx's CPU: the share of one core its worker used (near 100%, the target is the
 * limit) and its CPU time per request (what any client's rate costs the machine besides its own).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeBenchResults } from './results.js';
import { type NginxTarget, startNginx } from './support/nginx-target.js';

const CONCURRENCY = 50;
const NEW_CONNECTION_REQUESTS = 30_000;
const KEEP_ALIVE_REQUESTS = 100_000;
const DURATION_S = 3;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const KPROXY = fileURLToPath(new URL('../bin/kproxy.js', import.meta.url));
const AUTOCANNON = fileURLToPath(new URL('../node_modules/autocannon/autocannon.js', import.meta.url));

/**
 * One run of a tool: req/s, requests per CPU-second of the tool, nginx's busy share of a core,
 * and nginx's CPU microseconds per request.
 */
interface Measured {
  readonly requestsPerSecond: number;
  readonly requestsPerCpuSecond: number;
  readonly nginxBusy: number;
  readonly nginxCpuMicrosPerRequest: number;
}

/** What a tool printed, the requests it counted, and its req/s. */
interface Report {
  readonly requestsPerSecond: number;
  readonly requests: number;
}

interface Tool {
  readonly name: string;
  run(url: string): Report;
}

const timeDir = mkdtempSync(join(tmpdir(), 'kproxy-bench-time-'));
let lastCpuSeconds = 0;

/** Runs a tool under /usr/bin/time, keeping its CPU seconds in `lastCpuSeconds`. */
function output(command: string, args: string[]): string {
  const timeFile = join(timeDir, 'time');
  const text = execFileSync('/usr/bin/time', ['-f', '%U %S', '-o', timeFile, command, ...args], {
    encoding: 'utf8',
    maxBuffer: 64 * 2 ** 20,
    timeout: 120_000,
  });
  const [user = 0, sys = 0] =
    readFileSync(timeFile, 'utf8').trim().split('\n').pop()?.split(' ').map(Number) ?? [];
  lastCpuSeconds = user + sys;
  return text;
}

function number(text: string, pattern: RegExp, tool: string): number {
  const match = pattern.exec(text);
  if (!match?.[1]) throw new Error(`${tool}: no ${pattern} in its output:\n${text}`);
  return Number(match[1]);
}

const AB_RATE = /Requests per second:\s+([\d.]+)/;
const COMPLETE = /Complete requests:\s+(\d+)/;

function abLike(name: string, command: string, args: string[]): Tool {
  return {
    name,
    run: (url) => {
      const report = output(command, [...args, url]);
      return { requestsPerSecond: number(report, AB_RATE, name), requests: number(report, COMPLETE, name) };
    },
  };
}

function kproxy(name: string, args: string[], threads: number): Tool {
  return abLike(name, process.execPath, [KPROXY, 'bench', '-q', '--threads', String(threads), ...args]);
}

function wrk(name: string, args: string[], threads: number): Tool {
  return {
    name,
    run: (url) => {
      const text = output('wrk', [`-t${threads}`, `-c${CONCURRENCY}`, `-d${DURATION_S}s`, ...args, url]);
      return {
        requestsPerSecond: number(text, /Requests\/sec:\s+([\d.]+)/, name),
        requests: number(text, /(\d+) requests in/, name),
      };
    },
  };
}

const autocannon: Tool = {
  name: 'autocannon',
  run: (url) => {
    const args = [AUTOCANNON, '-j', '-n', '-c', String(CONCURRENCY), '-d', String(DURATION_S), url];
    const json = JSON.parse(output(process.execPath, args)) as {
      requests: { total: number };
      duration: number;
    };
    return { requestsPerSecond: json.requests.total / json.duration, requests: json.requests.total };
  },
};

function measure(tool: Tool, nginx: NginxTarget): Measured {
  const nginxBefore = nginx.workerCpuSeconds();
  const started = performance.now();
  const report = tool.run(nginx.url);
  const wallSeconds = (performance.now() - started) / 1000;
  const nginxSeconds = nginx.workerCpuSeconds() - nginxBefore;
  // The tool's own rate counts its run only; nginx's share is over the whole process's life,
  // start-up included, so it is a lower bound of how busy nginx was while it served.
  return {
    requestsPerSecond: report.requestsPerSecond,
    requestsPerCpuSecond: lastCpuSeconds > 0 ? report.requests / lastCpuSeconds : 0,
    nginxBusy: nginxSeconds / wallSeconds,
    nginxCpuMicrosPerRequest: (nginxSeconds * 1e6) / report.requests,
  };
}

const n = ['-n', String(NEW_CONNECTION_REQUESTS), '-c', String(CONCURRENCY)];
const k = ['-k', '-n', String(KEEP_ALIVE_REQUESTS), '-c', String(CONCURRENCY)];
const close = ['-H', 'Connection: close'];
const newConnectionTools = [
  kproxy('kproxy', n, 1),
  kproxy('kproxyTwoThreads', n, 2),
  abLike('ab', 'ab', ['-q', ...n]),
  wrk('wrkConnectionClose', close, 1),
  // What any client reaches here: C, two threads, the machine's two cores.
  wrk('wrkTwoThreadsConnectionClose', close, 2),
];
const keepAliveTools = [
  kproxy('kproxy', k, 1),
  kproxy('kproxyTwoThreads', k, 2),
  abLike('ab', 'ab', ['-q', ...k]),
  wrk('wrk', [], 1),
  autocannon,
];

/** Ratios, each as numerator / denominator tool, in one group ('new' or 'keep'). */
const RATIOS: Record<string, [group: 'new' | 'keep', numerator: string, denominator: string]> = {
  newConnectionsVsAb: ['new', 'kproxy', 'ab'],
  newConnectionsTwoThreadsVsAb: ['new', 'kproxyTwoThreads', 'ab'],
  newConnectionsWrkTwoThreadsVsAb: ['new', 'wrkTwoThreadsConnectionClose', 'ab'],
  keepAliveVsAutocannon: ['keep', 'kproxy', 'autocannon'],
  keepAliveTwoThreadsVsAutocannon: ['keep', 'kproxyTwoThreads', 'autocannon'],
  abAgreementKeepAlive: ['keep', 'kproxy', 'ab'],
};

type Rounds = Record<'new' | 'keep', Record<string, Measured[]>>;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

function spread(values: readonly number[]) {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

const nginx = await startNginx(1);
try {
  const rounds: Rounds = { new: {}, keep: {} };
  for (let round = 0; round < ROUNDS; round++) {
    for (const [group, tools] of [
      ['new', newConnectionTools],
      ['keep', keepAliveTools],
    ] as const) {
      for (const tool of tools) {
        const runs = rounds[group][tool.name] ?? [];
        runs.push(measure(tool, nginx));
        rounds[group][tool.name] = runs;
      }
    }
    console.log(`round ${round + 1} of ${ROUNDS} measured`);
  }
  const summary = (group: 'new' | 'keep') =>
    Object.fromEntries(
      Object.entries(rounds[group]).map(([name, runs]) => [
        name,
        {
          requestsPerSecond: spread(runs.map((r) => r.requestsPerSecond)),
          requestsPerCpuSecond: spread(runs.map((r) => r.requestsPerCpuSecond)),
          nginxBusy: spread(runs.map((r) => r.nginxBusy)),
          nginxCpuMicrosPerRequest: spread(runs.map((r) => r.nginxCpuMicrosPerRequest)),
        },
      ]),
    );
  const ratios = Object.fromEntries(
    Object.entries(RATIOS).map(([name, [group, top, bottom]]) => {
      const perRound = (rounds[group][top] ?? []).map(
        (run, i) => run.requestsPerSecond / (rounds[group][bottom]?.[i]?.requestsPerSecond ?? Number.NaN),
      );
      return [name, { ...spread(perRound), perRound }];
    }),
  );
  const newConnections = summary('new');
  const keepAlive = summary('keep');
  const row = (name: string, m: ReturnType<typeof summary>[string]) =>
    `  ${name.padEnd(30)} ${m.requestsPerSecond.median.toFixed(0).padStart(7)} req/s (${m.requestsPerSecond.min.toFixed(0)}–${m.requestsPerSecond.max.toFixed(0)})  ${m.requestsPerCpuSecond.median.toFixed(0).padStart(6)} req/CPU-s  nginx ${(m.nginxBusy.median * 100).toFixed(0)}% of a core, ${m.nginxCpuMicrosPerRequest.median.toFixed(1)} µs/req`;
  console.log(
    `\nnginx target ${nginx.url}, concurrency ${CONCURRENCY}, medians of ${ROUNDS} rounds (range)\n`,
  );
  console.log('new connection per request');
  for (const [name, value] of Object.entries(newConnections)) console.log(row(name, value));
  console.log('keep-alive');
  for (const [name, value] of Object.entries(keepAlive)) console.log(row(name, value));
  console.log(
    '\nratios, median of the per-round ratios (range) — targets: new connections ≥ 1.5× ab, keep-alive ≥ 1.0× autocannon; ab agreement ±15%',
  );
  for (const [name, value] of Object.entries(ratios))
    console.log(
      `  ${name.padEnd(34)} ${value.median.toFixed(2)}× (${value.min.toFixed(2)}–${value.max.toFixed(2)})`,
    );
  writeBenchResults('loadgen', {
    concurrency: CONCURRENCY,
    rounds: ROUNDS,
    newConnectionRequests: NEW_CONNECTION_REQUESTS,
    keepAliveRequests: KEEP_ALIVE_REQUESTS,
    durationSecondsForWrkAndAutocannon: DURATION_S,
    newConnections,
    keepAlive,
    ratios,
    runs: rounds,
  });
} finally {
  await nginx.stop();
  rmSync(timeDir, { recursive: true, force: true });
}
