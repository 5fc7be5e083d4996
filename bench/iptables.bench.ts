/**
 * iptables mode at scale, in private network namespaces: 10,000 Services × 10 endpoints.
 *  - full sync (render + iptables-restore + jumps) vs a bare iptables-restore of the same text,
 *    and vs kube-proxy's anchor (24 s, measured earlier on this machine kind);
 *  - one endpoint changed (a partial sync) vs kube-proxy's 0.10 s;
 *  - data path: requests/s to a ClusterIP through kproxy's rules vs one hand-written DNAT rule (ab, new connection per request).
 */
import { performance } from 'node:perf_hooks';
import type { IptablesBackend } from '../src/dataplanes/iptables/applier.js';
import { IptablesDataplane } from '../src/dataplanes/iptables/iptables-dataplane.js';
import { buildIptablesRuleSet } from '../src/dataplanes/iptables/render.js';
import { restoreTextOf } from '../src/dataplanes/iptables/restore-chunks.js';
import { serializeRuleSet } from '../src/dataplanes/iptables/serialize.js';
import { planSync } from '../src/dataplanes/iptables/sync-plan.js';
import { createNetns, deleteNetns, runChecked } from '../src/dataplanes/netns.js';
import { endpoint, type PortSpec, renderOptions, stateOf } from '../test/dataplanes/iptables/fixtures.js';
import { createLab, labNodeIP, podPort } from '../test/dataplanes/iptables/netns-lab.js';
import { writeBenchResults } from './results.js';

const serviceCount = 10_000;
const endpointsPerService = 10;
const anchor = { fullSeconds: 24, oneServiceSeconds: 0.1 };
const options = renderOptions({ clusterCIDRs: ['10.0.0.0/8'], nodeIPs: [labNodeIP] });

function service(i: number, generation = 0): PortSpec {
  const endpoints = Array.from({ length: endpointsPerService }, (_, j) =>
    endpoint(`10.${(i >> 8) & 255}.${i & 255}.${j + 1 + generation}`, 8080),
  );
  return {
    namespace: `ns${i % 100}`,
    name: `svc${i}`,
    port: 80,
    clusterIP: `172.${16 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`,
    endpoints,
  };
}

async function seconds(action: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await action();
  return (performance.now() - start) / 1000;
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

/**
 * Full sync vs a bare restore of the same text, each into its own fresh namespace, twice with the
 * order swapped (the first big load after a quiet spell runs slower); then five one-endpoint changes.
 */
async function scale(backend: IptablesBackend, count: number) {
  const specs = Array.from({ length: count }, (_, i) => service(i));
  const state = stateOf(...specs);
  const text = serializeRuleSet(buildIptablesRuleSet(state, options)).text;
  const restoreTool = backend === 'legacy' ? 'iptables-legacy-restore' : 'iptables-restore';
  const namespaces: string[] = [];
  const fresh = async (tag: string) => {
    const name = `kp-ipt-bench-${process.pid}-${tag}`;
    await createNetns(name);
    namespaces.push(name);
    return name;
  };
  const bareLoad = async (tag: string) => {
    const netns = await fresh(tag);
    return seconds(() => runChecked([restoreTool, '--noflush', '--wait'], { netns, input: text }));
  };
  try {
    const kproxy: number[] = [];
    const bare: number[] = [];
    let dataplane: IptablesDataplane | undefined;
    for (const round of [1, 2]) {
      if (round === 1) bare.push(await bareLoad(`b${round}`));
      const netns = await fresh(`a${round}`);
      dataplane = new IptablesDataplane({
        families: [options],
        netns,
        syncPeriodMs: Number.POSITIVE_INFINITY,
        wait: true,
        backend,
      });
      const plane = dataplane;
      kproxy.push(await seconds(() => plane.sync(state, new Set())));
      if (round === 2) bare.push(await bareLoad(`b${round}`));
    }
    const oneChange: number[] = [];
    for (let round = 1; round <= 5; round++) {
      const index = (round * 997) % count;
      specs[index] = service(index, round);
      const changed = stateOf(...specs);
      const id = `ns${index % 100}/svc${index}:p80`;
      oneChange.push(await seconds(() => (dataplane as IptablesDataplane).sync(changed, new Set([id]))));
    }
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    return {
      full: mean(kproxy),
      bare: mean(bare),
      fullRuns: kproxy,
      bareRuns: bare,
      oneChange: median(oneChange),
      rules: text.split('\n').length,
    };
  } finally {
    for (const name of namespaces) await deleteNetns(name);
  }
}

/**
 * nf_tables at 10,000 Services. The first load goes in without --noflush (fine in an empty bench
 * namespace, never on a node: a --noflush full load of this size takes far too long there); then
 * each one-endpoint change runs exactly the data plane's partial-sync plan (planSync: render the
 * changed port, edit the shared chains) and `iptables-restore --noflush`.
 */
async function nftOneChangeAtScale(count: number) {
  const specs = Array.from({ length: count }, (_, i) => service(i));
  const netns = `kp-ipt-bench-${process.pid}-n`;
  await createNetns(netns);
  try {
    const first = planSync({ state: stateOf(...specs), options });
    const load = await seconds(() =>
      runChecked(['iptables-nft-restore'], { netns, input: restoreTextOf(first.restore).text }),
    );
    let applied = first.next();
    const rounds: number[] = [];
    for (let round = 1; round <= 5; round++) {
      const index = (round * 997) % count;
      specs[index] = service(index, round);
      const state = stateOf(...specs);
      const changed = new Set([`ns${index % 100}/svc${index}:p80`]);
      rounds.push(
        await seconds(async () => {
          const plan = planSync({ state, options, applied, changed });
          await runChecked(['iptables-nft-restore', '--noflush', '--wait'], {
            netns,
            input: restoreTextOf(plan.restore).text,
          });
          applied = plan.next();
        }),
      );
    }
    return { loadWithoutNoflush: load, oneChange: median(rounds) };
  } finally {
    await deleteNetns(netns);
  }
}

/** Requests per second with ab (a new connection per request) from a node namespace. */
async function abRate(netns: string, url: string): Promise<number> {
  const out = await runChecked(['ab', '-q', '-n', '4000', '-c', '8', '-s', '5', url], { netns });
  return Number(/Requests per second:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN);
}

/**
 * Two identical labs, so neither run's conntrack or TIME_WAIT entries touch the other's: one node
 * with kproxy's rules for one Service, one with a single hand-written DNAT rule.
 */
async function dataPath() {
  const withKproxy = await createLab('bk', 1);
  const withHandRule = await createLab('bh', 1);
  try {
    const pod = withKproxy.podIPs[0] as string;
    const dataplane = new IptablesDataplane({
      families: [options],
      netns: withKproxy.node,
      syncPeriodMs: Number.POSITIVE_INFINITY,
    });
    await dataplane.sync(
      stateOf({
        namespace: 'bench',
        name: 'web',
        port: 80,
        clusterIP: '172.30.0.10',
        endpoints: [endpoint(pod, podPort)],
      }),
      new Set(),
    );
    const dnat = [
      '-d',
      '172.30.0.10',
      '-p',
      'tcp',
      '--dport',
      '80',
      '-j',
      'DNAT',
      '--to-destination',
      `${pod}:${podPort}`,
    ];
    await runChecked(['iptables', '-t', 'nat', '-A', 'OUTPUT', ...dnat], { netns: withHandRule.node });
    const kproxy: number[] = [];
    const hand: number[] = [];
    // Alternate which goes first, and take medians: the machine is shared and single runs swing by 2×.
    for (let round = 0; round < 6; round++) {
      const order = round % 2 === 0 ? ['kproxy', 'hand'] : ['hand', 'kproxy'];
      for (const which of order) {
        if (which === 'kproxy') kproxy.push(await abRate(withKproxy.node, 'http://172.30.0.10/'));
        else hand.push(await abRate(withHandRule.node, 'http://172.30.0.10/'));
      }
    }
    return { kproxyRps: median(kproxy), handDnatRps: median(hand), kproxySamples: kproxy, handSamples: hand };
  } finally {
    await withKproxy.destroy();
    await withHandRule.destroy();
  }
}

// iptables-nft-restore --noflush grows quadratically with the number of chains on this machine
// (1,000 Services × 10: ~20 s, against ~2 s without --noflush), so 10,000 Services are measured with
// the legacy backend and the nf_tables backend at 1,000.
const nftServices = 1_000;
const legacy = await scale('legacy', serviceCount);
const nft = await scale('nft', nftServices);
const nftLarge = await nftOneChangeAtScale(serviceCount);
const path = await dataPath();
const s = (value: number) => `${value.toFixed(3)} s`;
const rows: [string, string, string, string][] = [
  [
    'legacy: full sync 10,000 × 10',
    s(legacy.full),
    `bare restore ${s(legacy.bare)}`,
    `${(legacy.full / legacy.bare).toFixed(2)}× (target ≤ 1.1×)`,
  ],
  [
    'legacy: full sync vs kube-proxy',
    s(legacy.full),
    `kube-proxy ${anchor.fullSeconds} s`,
    `${(legacy.full / anchor.fullSeconds).toFixed(2)}×`,
  ],
  [
    'legacy: one endpoint changed',
    s(legacy.oneChange),
    `kube-proxy ${anchor.oneServiceSeconds} s`,
    `${(legacy.oneChange / anchor.oneServiceSeconds).toFixed(2)}× (target ≤ 0.2 s)`,
  ],
  [
    `nft: full sync ${nftServices.toLocaleString('en')} × 10`,
    s(nft.full),
    `bare restore ${s(nft.bare)}`,
    `${(nft.full / nft.bare).toFixed(2)}×`,
  ],
  [
    `nft: one endpoint changed (${nftServices.toLocaleString('en')})`,
    s(nft.oneChange),
    `kube-proxy ${anchor.oneServiceSeconds} s`,
    `${(nft.oneChange / anchor.oneServiceSeconds).toFixed(2)}×`,
  ],
  [
    'nft: one endpoint changed (10,000)',
    s(nftLarge.oneChange),
    `kube-proxy ${anchor.oneServiceSeconds} s`,
    `${(nftLarge.oneChange / anchor.oneServiceSeconds).toFixed(2)}× (target ≤ 0.2 s)`,
  ],
  [
    'ClusterIP req/s (ab, 1 Service)',
    path.kproxyRps.toFixed(0),
    `hand DNAT ${path.handDnatRps.toFixed(0)}`,
    `${(path.kproxyRps / path.handDnatRps).toFixed(2)}× (target ≥ 0.95×)`,
  ],
];
for (const row of rows)
  console.log(`${row[0].padEnd(38)} ${row[1].padStart(10)}   ${row[2].padEnd(24)} ${row[3]}`);
console.log(`(${legacy.rules} restore lines at 10,000 Services; shared machine, numbers are noisy)`);
writeBenchResults('iptables', { legacy, nft, nftServices, nftLarge, dataPath: path, anchor });
