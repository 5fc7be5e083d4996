/**
 * `npm run bench control`: 10,000 Services × 10 endpoints to a ProxyState, from manifest files and
 * from the Kubernetes API (the fake API server of the tests), then one endpoint changed. Anchors
 * (the issue's targets): ≤ 1 s for the initial state, ≤ 5 ms for the change, ≤ 200 MiB RSS.
 */

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { stringify } from 'yaml';
import { StateCollector } from '../src/control/state-collector.js';
import type { EndpointSliceObject } from '../src/model/k8s-objects.js';
import { ManifestSource } from '../src/sources/manifest-source.js';
import { FakeApiServer, type KubeObject } from '../test/fakes/fake-api-server.js';
import { writeBenchResults } from './results.js';

const SERVICES = 10_000;
const ENDPOINTS = 10;
const FILES = 100;
const TARGETS = { initialMs: 1000, changeMs: 5, rssMiB: 200 };

function serviceObject(i: number): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: `svc-${i}`, namespace: `ns-${i % 50}` },
    spec: {
      type: 'ClusterIP',
      clusterIP: `10.${96 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`,
      ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 }],
    },
  };
}

function sliceObject(i: number, changed = false): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `svc-${i}-abcde`,
      namespace: `ns-${i % 50}`,
      labels: { 'kubernetes.io/service-name': `svc-${i}` },
    },
    addressType: 'IPv4',
    ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
    endpoints: Array.from({ length: ENDPOINTS }, (_, e) => ({
      addresses: [`10.${128 + (i >> 12)}.${(i >> 4) & 255}.${(i & 15) * ENDPOINTS + e}`],
      conditions: { ready: !(changed && e === 0) },
      nodeName: `node-${e % 5}`,
    })),
  };
}

/** JSON documents (what generators and `kubectl -o json` write), or block YAML (`kubectl -o yaml`). */
function writeManifests(dir: string, format: 'json' | 'yaml' = 'json'): void {
  const perFile = SERVICES / FILES;
  const text =
    format === 'json' ? (o: KubeObject) => JSON.stringify(o) : (o: KubeObject) => stringify(o).trimEnd();
  for (let f = 0; f < FILES; f++) {
    const docs: string[] = [];
    for (let i = f * perFile; i < (f + 1) * perFile; i++) {
      docs.push(text(serviceObject(i)), text(sliceObject(i)));
    }
    writeFileSync(join(dir, `services-${String(f).padStart(3, '0')}.yaml`), `${docs.join('\n---\n')}\n`);
  }
}

const rssMiB = () => process.memoryUsage().rss / 2 ** 20;
// A full GC before reading memory, so the numbers show what is kept rather than garbage not yet collected.
v8.setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;
const settledRssMiB = () => {
  collectGarbage();
  return { rssMiB: rssMiB(), heapMiB: process.memoryUsage().heapUsed / 2 ** 20 };
};
const baselineRssMiB = rssMiB();
const cpuMs = (usage: NodeJS.CpuUsage) => (usage.user + usage.system) / 1000;
const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))] ?? Number.NaN;
const median = (values: number[]) => percentile(values, 0.5);
/** The Services whose endpoint the control-only measurement changed. */
const changedByControl = (i: number) =>
  Array.from({ length: 100 }, (_, k) => (k * 97) % SERVICES).includes(i);

async function fromManifests() {
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-bench-'));
  try {
    writeManifests(dir);
    const started = performance.now();
    const cpuStart = process.cpuUsage();
    const collector = new StateCollector('node-0');
    const source = new ManifestSource({ paths: [dir] });
    await source.start(collector);
    const { state } = collector.build();
    const initialMs = performance.now() - started;
    const initialCpuMs = cpuMs(process.cpuUsage(cpuStart));
    if (state.servicePorts.size !== SERVICES)
      throw new Error(`expected ${SERVICES} ports, got ${state.servicePorts.size}`);

    // One endpoint turns not-ready, 100 times on different Services: control alone (tracker,
    // endpoint selection, new snapshot) ...
    const changes: number[] = [];
    for (let k = 0; k < 100; k++) {
      const i = (k * 97) % SERVICES;
      const t0 = performance.now();
      collector.endpointSlice(
        `ns-${i % 50}/svc-${i}-abcde`,
        sliceObject(i, true) as unknown as EndpointSliceObject,
      );
      const change = collector.build();
      changes.push(performance.now() - t0);
      if (change.changed.size !== 1) throw new Error('the change was not seen');
    }
    const controlChangeMs = median(changes);
    // ... and through the watched directory: the one file holding it is re-read. 21 times, the
    // endpoint turning not-ready and ready again: one sample alone moves with every hiccup of the
    // machine.
    const perFile = SERVICES / FILES;
    const fileChanges: number[] = [];
    for (let round = 0; round < 21; round++) {
      const target = 4243;
      const first = Math.floor(target / perFile) * perFile;
      const file = join(dir, `services-${String(first / perFile).padStart(3, '0')}.yaml`);
      const docs: string[] = [];
      for (let i = first; i < first + perFile; i++)
        docs.push(
          JSON.stringify(serviceObject(i)),
          JSON.stringify(sliceObject(i, changedByControl(i) || (i === target && round % 2 === 0))),
        );
      writeFileSync(file, `${docs.join('\n---\n')}\n`);
      const t1 = performance.now();
      source.rescan();
      const fileChange = collector.build();
      fileChanges.push(performance.now() - t1);
      if (fileChange.changed.size !== 1) throw new Error('the file change was not seen');
    }
    const fileChangeMs = median(fileChanges);
    return {
      initialMs,
      initialCpuMs,
      controlChangeMs,
      controlChangeP90Ms: percentile(changes, 0.9),
      fileChangeMs,
      rssMiB: rssMiB(),
      settled: settledRssMiB(),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The initial state from block-style YAML: the same objects as kubectl -o yaml prints them. */
async function fromYamlManifests() {
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-bench-yaml-'));
  try {
    writeManifests(dir, 'yaml');
    const started = performance.now();
    const cpuStart = process.cpuUsage();
    const collector = new StateCollector('node-0');
    await new ManifestSource({ paths: [dir] }).start(collector);
    const { state } = collector.build();
    if (state.servicePorts.size !== SERVICES)
      throw new Error(`expected ${SERVICES} ports, got ${state.servicePorts.size}`);
    return { initialMs: performance.now() - started, initialCpuMs: cpuMs(process.cpuUsage(cpuStart)) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The fake API server runs in a child process of its own (this file, in the api-server role),
 * so the API rows measure the proxy's side alone. The child prints `ready <url>`, then upserts a
 * changed EndpointSlice for each `change <i>` line it reads.
 */
async function serveFakeApi(): Promise<void> {
  const server = new FakeApiServer();
  await server.start();
  for (let i = 0; i < SERVICES; i++) {
    server.upsert('services', serviceObject(i));
    server.upsert('endpointslices', sliceObject(i));
  }
  console.log(`ready ${server.url}`);
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    const [command, index] = line.split(' ');
    if (command === 'change') server.upsert('endpointslices', sliceObject(Number(index), true));
  }
  await server.stop();
}

async function startFakeApiProcess(): Promise<{
  url: string;
  change: (i: number) => void;
  stop: () => void;
}> {
  const child = inChildProcess('api-server');
  const lines = createInterface({ input: child.stdout });
  const url = await new Promise<string>((resolve, reject) => {
    lines.on('line', (line) => line.startsWith('ready ') && resolve(line.slice(6)));
    child.on('exit', (code) => reject(new Error(`the fake API server exited (${code})`)));
  });
  return {
    url,
    change: (i) => child.stdin.write(`change ${i}\n`),
    stop: () => child.stdin.end(),
  };
}

async function fromApi() {
  const server = await startFakeApiProcess();
  // Imported here, as `kproxy run` does: the Kubernetes client is loaded only for the API source.
  const { KubeApiSource } = await import('../src/sources/kube-api-source.js');
  const collector = new StateCollector('node-0');
  const source = new KubeApiSource({ master: server.url });
  try {
    const started = performance.now();
    const cpuStart = process.cpuUsage();
    await source.start(collector);
    await collector.whenSynced();
    const { state } = collector.build();
    const initialMs = performance.now() - started;
    const initialCpuMs = cpuMs(process.cpuUsage(cpuStart));
    if (state.servicePorts.size !== SERVICES) {
      throw new Error(`expected ${SERVICES} ports, got ${state.servicePorts.size}`);
    }
    const changes: number[] = [];
    for (let k = 0; k < 20; k++) {
      const t0 = performance.now();
      server.change(k * 101);
      let changed = 0;
      while (changed === 0 && performance.now() - t0 < 5000) {
        await new Promise((resolve) => setImmediate(resolve));
        changed = collector.build().changed.size;
      }
      changes.push(performance.now() - t0);
    }
    const changeMs = median(changes);
    return { initialMs, initialCpuMs, changeMs, rssMiB: rssMiB(), settled: settledRssMiB() };
  } finally {
    await source.stop();
    server.stop();
  }
}

/** Each scenario runs in a process of its own, so one's memory never shows in another's RSS. */
const scenarios = { manifests: fromManifests, yamlManifests: fromYamlManifests, api: fromApi };
type Scenario = keyof typeof scenarios;
type ScenarioResult<S extends Scenario> = Awaited<ReturnType<(typeof scenarios)[S]>> & {
  baselineRssMiB: number;
};

const role = process.env.KPROXY_BENCH_ROLE;
if (role === 'api-server') await serveFakeApi();
else if (role && role in scenarios) {
  const result = await scenarios[role as Scenario]();
  console.log(`result ${JSON.stringify({ ...result, baselineRssMiB })}`);
} else await main();

function inChildProcess<S extends Scenario>(role: S | 'api-server') {
  return spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
    env: { ...process.env, KPROXY_BENCH_ROLE: role },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
}

async function runScenario<S extends Scenario>(scenario: S): Promise<ScenarioResult<S>> {
  const child = inChildProcess(scenario);
  child.stdin.end();
  let result: ScenarioResult<S> | undefined;
  for await (const line of createInterface({ input: child.stdout })) {
    if (line.startsWith('result ')) result = JSON.parse(line.slice(7)) as ScenarioResult<S>;
  }
  if (!result) throw new Error(`the ${scenario} scenario failed`);
  return result;
}

async function main(): Promise<void> {
  const manifests = await runScenario('manifests');
  const yamlManifests = await runScenario('yamlManifests');
  const api = await runScenario('api');
  const baselineRssMiB = manifests.baselineRssMiB;

  /** One line: what, the value, the target beside it and their ratio (below 1× meets the target). */
  function row(what: string, value: number, unit: string, target?: number): string {
    const digits = value < 10 ? 2 : 0;
    const targetText =
      target === undefined
        ? ''
        : `target ${`${target} ${unit}`.padStart(8)}  ${(value / target).toFixed(2)}×`;
    return `${what.padEnd(52)} ${`${value.toFixed(digits)} ${unit}`.padStart(10)}  ${targetText}`;
  }

  const changeTarget = TARGETS.changeMs;
  console.log(`${SERVICES} Services × ${ENDPOINTS} endpoints (measured, target, ratio)\n`);
  console.log(
    [
      row('manifests: initial state (wall)', manifests.initialMs, 'ms', TARGETS.initialMs),
      row('manifests: initial state (CPU time)', manifests.initialCpuMs, 'ms', TARGETS.initialMs),
      row('YAML manifests: initial state (wall)', yamlManifests.initialMs, 'ms', TARGETS.initialMs),
      row('YAML manifests: initial state (CPU time)', yamlManifests.initialCpuMs, 'ms', TARGETS.initialMs),
      row('one endpoint changed, control (median of 100)', manifests.controlChangeMs, 'ms', changeTarget),
      row('one endpoint changed, control (p90)', manifests.controlChangeP90Ms, 'ms', changeTarget),
      row(
        'one endpoint changed, its file re-read (median of 21)',
        manifests.fileChangeMs,
        'ms',
        changeTarget,
      ),
      row('manifests: RSS at the end', manifests.rssMiB, 'MiB', TARGETS.rssMiB),
      row('manifests: RSS after a full GC', manifests.settled.rssMiB, 'MiB', TARGETS.rssMiB),
      row('manifests: live heap after a full GC', manifests.settled.heapMiB, 'MiB'),
      row('API: initial lists to state (wall)', api.initialMs, 'ms', TARGETS.initialMs),
      row('API: initial lists to state (CPU)', api.initialCpuMs, 'ms', TARGETS.initialMs),
      row('API: watch event to state (median of 20)', api.changeMs, 'ms', changeTarget),
      row('API: RSS after a full GC', api.settled.rssMiB, 'MiB', TARGETS.rssMiB),
      row('process RSS before anything (node + tsx)', baselineRssMiB, 'MiB'),
    ].join('\n'),
  );
  writeBenchResults('control', {
    services: SERVICES,
    endpoints: ENDPOINTS,
    targets: TARGETS,
    baselineRssMiB,
    manifests,
    yamlManifests,
    api,
  });
}
