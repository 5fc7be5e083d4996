/**
 * The load generator against ab, wrk and autocannon, one after another on one nginx target,
 * each in its own process with the same concurrency:
 *   new connections: kproxy bench vs ab vs wrk (Connection: close; with one thread and with two,
 *                    the most this machine's two cores give any client) — target ≥ 1.5× ab;
 *   keep-alive:      kproxy bench -k vs ab -k vs wrk vs autocannon — target ≥ 1.0× autocannon;
 *   agreement:       the req/s kproxy bench and ab report for the same settings (±15%).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeBenchResults } from './results.js';
import { startNginx } from './support/nginx-target.js';

const CONCURRENCY = 50;
const NEW_CONNECTION_REQUESTS = 20_000;
const KEEP_ALIVE_REQUESTS = 100_000;
const DURATION_S = 4;
const KPROXY = fileURLToPath(new URL('../bin/kproxy.js', import.meta.url));
const AUTOCANNON = fileURLToPath(new URL('../node_modules/autocannon/autocannon.js', import.meta.url));

/** A tool's req/s, and its requests per CPU-second (user + sys): the fairer number on a busy machine. */
interface Measured {
  readonly requestsPerSecond: number;
  readonly requestsPerCpuSecond: number;
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

function measured(requestsPerSecond: number, requests: number): Measured {
  return { requestsPerSecond, requestsPerCpuSecond: lastCpuSeconds > 0 ? requests / lastCpuSeconds : 0 };
}

function number(text: string, pattern: RegExp, tool: string): number {
  const match = pattern.exec(text);
  if (!match?.[1]) throw new Error(`${tool}: no req/s in its output:\n${text}`);
  return Number(match[1]);
}

const AB_RATE = /Requests per second:\s+([\d.]+)/;

const COMPLETE = /Complete requests:\s+(\d+)/;

function kproxy(url: string, args: string[], threads = 1): Measured {
  const report = output(process.execPath, [
    KPROXY,
    'bench',
    '-q',
    '--threads',
    String(threads),
    ...args,
    url,
  ]);
  return measured(number(report, AB_RATE, 'kproxy bench'), number(report, COMPLETE, 'kproxy bench'));
}

function ab(url: string, args: string[]): Measured {
  const report = output('ab', ['-q', ...args, url]);
  return measured(number(report, AB_RATE, 'ab'), number(report, COMPLETE, 'ab'));
}

function wrk(url: string, args: string[], threads = 1): Measured {
  const text = output('wrk', [`-t${threads}`, `-c${CONCURRENCY}`, `-d${DURATION_S}s`, ...args, url]);
  return measured(number(text, /Requests\/sec:\s+([\d.]+)/, 'wrk'), number(text, /(\d+) requests in/, 'wrk'));
}

function autocannon(url: string): Measured {
  const args = [AUTOCANNON, '-j', '-n', '-c', String(CONCURRENCY), '-d', String(DURATION_S), url];
  const json = JSON.parse(output(process.execPath, args)) as {
    requests: { total: number };
    duration: number;
  };
  return measured(json.requests.total / json.duration, json.requests.total);
}

const nginx = await startNginx(1);
try {
  const n = ['-n', String(NEW_CONNECTION_REQUESTS), '-c', String(CONCURRENCY)];
  const k = ['-k', '-n', String(KEEP_ALIVE_REQUESTS), '-c', String(CONCURRENCY)];
  const newConnections = {
    kproxy: kproxy(nginx.url, n),
    kproxyTwoThreads: kproxy(nginx.url, n, 2),
    ab: ab(nginx.url, n),
    wrkConnectionClose: wrk(nginx.url, ['-H', 'Connection: close']),
    // What any client reaches here: C, two threads, the machine's two cores.
    wrkTwoThreadsConnectionClose: wrk(nginx.url, ['-H', 'Connection: close'], 2),
  };
  const keepAlive = {
    kproxy: kproxy(nginx.url, k),
    kproxyTwoThreads: kproxy(nginx.url, k, 2),
    ab: ab(nginx.url, k),
    wrk: wrk(nginx.url, []),
    autocannon: autocannon(nginx.url),
  };
  const rate = (m: Measured) => m.requestsPerSecond;
  const perCpu = (m: Measured) => m.requestsPerCpuSecond;
  const ratios = {
    newConnectionsVsAb: rate(newConnections.kproxy) / rate(newConnections.ab),
    newConnectionsTwoThreadsVsAb: rate(newConnections.kproxyTwoThreads) / rate(newConnections.ab),
    newConnectionsPerCpuVsAb: perCpu(newConnections.kproxy) / perCpu(newConnections.ab),
    newConnectionsWrkTwoThreadsVsAb:
      rate(newConnections.wrkTwoThreadsConnectionClose) / rate(newConnections.ab),
    keepAliveVsAutocannon: rate(keepAlive.kproxy) / rate(keepAlive.autocannon),
    keepAliveTwoThreadsVsAutocannon: rate(keepAlive.kproxyTwoThreads) / rate(keepAlive.autocannon),
    keepAlivePerCpuVsAutocannon: perCpu(keepAlive.kproxy) / perCpu(keepAlive.autocannon),
    abAgreementKeepAlive: rate(keepAlive.kproxy) / rate(keepAlive.ab),
  };
  const row = (name: string, m: Measured) =>
    `  ${name.padEnd(24)} ${m.requestsPerSecond.toFixed(0).padStart(8)} req/s ${m.requestsPerCpuSecond.toFixed(0).padStart(8)} req/CPU-s`;
  console.log(`nginx target ${nginx.url}, concurrency ${CONCURRENCY}\n`);
  console.log('new connection per request');
  for (const [name, value] of Object.entries(newConnections)) console.log(row(name, value));
  console.log('keep-alive');
  for (const [name, value] of Object.entries(keepAlive)) console.log(row(name, value));
  console.log(
    '\nratios (targets: new connections ≥ 1.5× ab, keep-alive ≥ 1.0× autocannon; ab agreement ±15%: newConnectionsVsAb, abAgreementKeepAlive)',
  );
  for (const [name, value] of Object.entries(ratios))
    console.log(`  ${name.padEnd(34)} ${value.toFixed(2)}×`);
  writeBenchResults('loadgen', {
    concurrency: CONCURRENCY,
    newConnectionRequests: NEW_CONNECTION_REQUESTS,
    keepAliveRequests: KEEP_ALIVE_REQUESTS,
    durationSecondsForWrkAndAutocannon: DURATION_S,
    newConnections,
    keepAlive,
    ratios,
  });
} finally {
  await nginx.stop();
  rmSync(timeDir, { recursive: true, force: true });
}
