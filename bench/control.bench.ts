/**
 * `npm run bench control`: 10,000 Services × 10 endpoints to a ProxyState, from manifest files and
 * from the Kubernetes API (the fake API server of the tests), then one endpoint changed. Anchors
 * (the targets): ≤ 1 s for the initial state, ≤ 5 ms for the change, ≤ 200 MiB RSS.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StateCollector } from '../src/control/state-collector.js';
import type { EndpointSliceObject } from '../src/model/k8s-objects.js';
import { KubeApiSource } from '../src/sources/kube-api-source.js';
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

function writeManifests(dir: string): void {
  const perFile = SERVICES / FILES;
  for (let f = 0; f < FILES; f++) {
    const docs: string[] = [];
    for (let i = f * perFile; i < (f + 1) * perFile; i++) {
      docs.push(JSON.stringify(serviceObject(i)), JSON.stringify(sliceObject(i)));
    }
    writeFileSync(join(dir, `services-${String(f).padStart(3, '0')}.yaml`), `${docs.join('\n---\n')}\n`);
  }
}

const rssMiB = () => process.memoryUsage().rss / 2 ** 20;
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
    // ... and through the watched directory: the one file holding it is re-read.
    const file = join(dir, `services-${String(Math.floor(4243 / (SERVICES / FILES))).padStart(3, '0')}.yaml`);
    const perFile = SERVICES / FILES;
    const first = Math.floor(4243 / perFile) * perFile;
    const docs: string[] = [];
    for (let i = first; i < first + perFile; i++)
      docs.push(
        JSON.stringify(serviceObject(i)),
        JSON.stringify(sliceObject(i, changedByControl(i) || i === 4243)),
      );
    writeFileSync(file, `${docs.join('\n---\n')}\n`);
    const t1 = performance.now();
    source.rescan();
    const fileChange = collector.build();
    const fileChangeMs = performance.now() - t1;
    if (fileChange.changed.size !== 1) throw new Error('the file change was not seen');
    return {
      initialMs,
      initialCpuMs,
      controlChangeMs,
      controlChangeP90Ms: percentile(changes, 0.9),
      fileChangeMs,
      rssMiB: rssMiB(),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function fromApi() {
  const server = new FakeApiServer();
  await server.start();
  for (let i = 0; i < SERVICES; i++) {
    server.upsert('services', serviceObject(i));
    server.upsert('endpointslices', sliceObject(i));
  }
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
    if (state.servicePorts.size !== SERVICES)
      throw new Error(`expected ${SERVICES} ports, got ${state.servicePorts.size}`);
    const changes: number[] = [];
    for (let k = 0; k < 20; k++) {
      const t0 = performance.now();
      server.upsert('endpointslices', sliceObject(k * 101, true));
      let changed = 0;
      while (changed === 0 && performance.now() - t0 < 5000) {
        await new Promise((resolve) => setImmediate(resolve));
        changed = collector.build().changed.size;
      }
      changes.push(performance.now() - t0);
    }
    const changeMs = median(changes);
    return { initialMs, initialCpuMs, changeMs, rssMiB: rssMiB() };
  } finally {
    await source.stop();
    await server.stop();
  }
}

const ratio = (value: number, target: number) => `${(value / target).toFixed(2)}×`;
const manifests = await fromManifests();
const api = await fromApi();
const rows = [
  [
    'manifests: initial state (wall)',
    `${manifests.initialMs.toFixed(0)} ms`,
    `${TARGETS.initialMs} ms`,
    ratio(manifests.initialMs, TARGETS.initialMs),
  ],
  [
    'manifests: initial state (CPU time)',
    `${manifests.initialCpuMs.toFixed(0)} ms`,
    `${TARGETS.initialMs} ms`,
    ratio(manifests.initialCpuMs, TARGETS.initialMs),
  ],
  [
    'one endpoint changed, control (median of 100)',
    `${manifests.controlChangeMs.toFixed(2)} ms`,
    `${TARGETS.changeMs} ms`,
    ratio(manifests.controlChangeMs, TARGETS.changeMs),
  ],
  [
    'one endpoint changed, control (p90)',
    `${manifests.controlChangeP90Ms.toFixed(2)} ms`,
    `${TARGETS.changeMs} ms`,
    ratio(manifests.controlChangeP90Ms, TARGETS.changeMs),
  ],
  [
    'one endpoint changed, its file re-read (1 of 100)',
    `${manifests.fileChangeMs.toFixed(1)} ms`,
    `${TARGETS.changeMs} ms`,
    ratio(manifests.fileChangeMs, TARGETS.changeMs),
  ],
  [
    'manifests: RSS after',
    `${manifests.rssMiB.toFixed(0)} MiB`,
    `${TARGETS.rssMiB} MiB`,
    ratio(manifests.rssMiB, TARGETS.rssMiB),
  ],
  [
    'API: initial lists to state (wall)',
    `${api.initialMs.toFixed(0)} ms`,
    `${TARGETS.initialMs} ms`,
    ratio(api.initialMs, TARGETS.initialMs),
  ],
  [
    'API: initial lists to state (CPU, server included)',
    `${api.initialCpuMs.toFixed(0)} ms`,
    `${TARGETS.initialMs} ms`,
    ratio(api.initialCpuMs, TARGETS.initialMs),
  ],
  [
    'API: watch event to state (median of 20)',
    `${api.changeMs.toFixed(2)} ms`,
    `${TARGETS.changeMs} ms`,
    ratio(api.changeMs, TARGETS.changeMs),
  ],
  [
    'API: RSS after (fake server in-process)',
    `${api.rssMiB.toFixed(0)} MiB`,
    `${TARGETS.rssMiB} MiB`,
    ratio(api.rssMiB, TARGETS.rssMiB),
  ],
];
console.log(
  `${SERVICES} Services × ${ENDPOINTS} endpoints (measured / target = ratio; below 1× meets the target)\n`,
);
for (const [what, value, target, r] of rows)
  console.log(`${what?.padEnd(50)} ${value?.padStart(10)}  target ${target?.padStart(8)}  ${r}`);
writeBenchResults('control', { services: SERVICES, endpoints: ENDPOINTS, targets: TARGETS, manifests, api });
