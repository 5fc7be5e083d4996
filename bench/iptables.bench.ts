/**
 * iptables mode at scale, in private network namespaces: 10,000 Services × 10 endpoints.
 *  - full sync (render + iptables-restore + jumps) vs a bare iptables-restore of the same rules
 *    (in kube-proxy's order, as `kproxy rules` prints them; a full sync declares chains sorted),
 *    and vs kube-proxy's anchor (24 s, measured earlier on this machine kind);
 *  - one endpoint changed (a partial sync) vs a bare iptables-restore of the same partial text,
 *    and vs kube-proxy's 0.10 s;
 *  - data path: requests/s to a ClusterIP through kproxy's rules vs one hand-written DNAT rule (ab, new connection per request).
 */
import { readFileSync } from 'node:fs';
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

/**
 * CPU seconds of this process and its reaped children (the restore tools), from /proc/self/stat:
 * on a shared machine the CPU a sync costs moves much less than its wall time.
 */
function cpuSeconds(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]?.split(' ') ?? [];
  // utime, stime, cutime, cstime: fields 14–17 of the line, indices 11–14 after the command name.
  const ticks = [11, 12, 13, 14].reduce((sum, index) => sum + Number(fields[index]), 0);
  return ticks / 100;
}

async function timed(action: () => Promise<unknown>): Promise<{ wall: number; cpu: number }> {
  const cpu = cpuSeconds();
  const wall = await seconds(action);
  return { wall, cpu: cpuSeconds() - cpu };
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

const fullSyncRounds = 3;
const oneChangeRounds = 5;

/**
 * Full sync vs a bare restore of the same rules (kube-proxy's order) and vs a bare restore of the
 * very text the full sync writes, each into its own fresh namespace, three rounds with the order
 * rotating (the first big load after a quiet spell runs slower); the ratio to the first is the
 * median of the three rounds' ratios. Then five one-endpoint changes (partial syncs), each
 * beside a bare restore of the very same restore text: an endpoint change rewrites the port's
 * own chains and deletes the old endpoint chains (declared, then deleted), so loading the text a
 * second time does the same work again. Which of the two goes first alternates too.
 */
async function scale(backend: IptablesBackend, count: number) {
  const specs = Array.from({ length: count }, (_, i) => service(i));
  const state = stateOf(...specs);
  const text = serializeRuleSet(buildIptablesRuleSet(state, options)).text;
  // What a full sync itself writes (chains declared in sorted order), loaded by the bare tool too.
  const ownText = restoreTextOf(planSync({ state, options }).restore).text;
  const restoreTool = backend === 'legacy' ? 'iptables-legacy-restore' : 'iptables-restore';
  const bareRestore = (netns: string, input: string) =>
    timed(() => runChecked([restoreTool, '--noflush', '--wait'], { netns, input }));
  const namespaces = new Set<string>();
  const fresh = async (tag: string) => {
    const name = `kp-ipt-bench-${process.pid}-${tag}`;
    await createNetns(name);
    namespaces.add(name);
    return name;
  };
  const drop = async (name: string) => {
    await deleteNetns(name);
    namespaces.delete(name);
  };
  try {
    const kproxy: number[] = [];
    const bare: number[] = [];
    const kproxyCpu: number[] = [];
    const bareCpu: number[] = [];
    const bareOwnText: number[] = [];
    let dataplane: IptablesDataplane | undefined;
    let dataplaneNetns = '';
    for (let round = 1; round <= fullSyncRounds; round++) {
      const order = [
        ['bare', 'kproxy', 'own'],
        ['kproxy', 'own', 'bare'],
        ['own', 'bare', 'kproxy'],
      ];
      for (const which of order[(round - 1) % order.length] as string[]) {
        const netns = await fresh(`${which[0]}${round}`);
        if (which === 'own') {
          bareOwnText.push((await bareRestore(netns, ownText)).wall);
          await drop(netns);
          continue;
        }
        if (which === 'bare') {
          const run = await bareRestore(netns, text);
          bare.push(run.wall);
          bareCpu.push(run.cpu);
          await drop(netns);
          continue;
        }
        if (dataplane) await drop(dataplaneNetns);
        const plane = new IptablesDataplane({
          families: [options],
          netns,
          syncPeriodMs: Number.POSITIVE_INFINITY,
          wait: true,
          backend,
        });
        const run = await timed(() => plane.sync(state, new Set()));
        kproxy.push(run.wall);
        kproxyCpu.push(run.cpu);
        [dataplane, dataplaneNetns] = [plane, netns];
      }
    }
    // The data plane's own plans, followed alongside it, give the text each partial sync loads.
    let applied = planSync({ state, options }).next();
    const oneChange: number[] = [];
    const oneChangeBare: number[] = [];
    for (let round = 1; round <= oneChangeRounds; round++) {
      const index = (round * 997) % count;
      specs[index] = service(index, round);
      const next = stateOf(...specs);
      const changed = new Set([`ns${index % 100}/svc${index}:p80`]);
      const plan = planSync({ state: next, options, applied, changed });
      const changeText = restoreTextOf(plan.restore).text;
      applied = plan.next();
      const plane = dataplane as IptablesDataplane;
      const runKproxy = async () => oneChange.push(await seconds(() => plane.sync(next, changed)));
      const runBare = async () => oneChangeBare.push((await bareRestore(dataplaneNetns, changeText)).wall);
      for (const run of round % 2 === 1 ? [runKproxy, runBare] : [runBare, runKproxy]) await run();
    }
    const ratios = kproxy.map((value, i) => value / (bare[i] as number));
    return {
      full: median(kproxy),
      bare: median(bare),
      fullRatio: median(ratios),
      fullRuns: kproxy,
      bareRuns: bare,
      /** CPU seconds (kproxy: its process and the tools it ran; bare: the restore tool). */
      fullCpu: median(kproxyCpu),
      bareCpu: median(bareCpu),
      fullCpuRuns: kproxyCpu,
      bareCpuRuns: bareCpu,
      /** A bare restore of the text a full sync writes (sorted declarations). */
      bareOwnText: median(bareOwnText),
      bareOwnTextRuns: bareOwnText,
      oneChange: median(oneChange),
      oneChangeBare: median(oneChangeBare),
      oneChangeRuns: oneChange,
      oneChangeBareRuns: oneChangeBare,
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

/**
 * Requests per second with ab (a new connection per request) from a node namespace. 20,000
 * requests a sample: with 4,000 (a quarter of a second) the two sides' samples overlapped too
 * much to tell 0.94× from 0.97×.
 */
async function abRate(netns: string, url: string): Promise<number> {
  const out = await runChecked(['ab', '-q', '-n', '20000', '-c', '8', '-s', '5', url], { netns });
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
    `${legacy.fullRatio.toFixed(2)}× (target ≤ 1.1×)`,
  ],
  [
    'legacy: full sync 10,000 × 10',
    s(legacy.full),
    `bare, its own text ${s(legacy.bareOwnText)}`,
    `${(legacy.full / legacy.bareOwnText).toFixed(2)}×`,
  ],
  [
    'legacy: full sync, CPU seconds',
    s(legacy.fullCpu),
    `bare restore ${s(legacy.bareCpu)}`,
    `${(legacy.fullCpu / legacy.bareCpu).toFixed(2)}×`,
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
    `bare restore ${s(legacy.oneChangeBare)}`,
    `${(legacy.oneChange / legacy.oneChangeBare).toFixed(2)}× (target ≤ 0.2 s)`,
  ],
  [
    'legacy: one endpoint changed',
    s(legacy.oneChange),
    `kube-proxy ${anchor.oneServiceSeconds} s`,
    `${(legacy.oneChange / anchor.oneServiceSeconds).toFixed(2)}×`,
  ],
  [
    `nft: full sync ${nftServices.toLocaleString('en')} × 10`,
    s(nft.full),
    `bare restore ${s(nft.bare)}`,
    `${nft.fullRatio.toFixed(2)}× (target ≤ 1.1×)`,
  ],
  [
    `nft: full sync ${nftServices.toLocaleString('en')} × 10`,
    s(nft.full),
    `bare, its own text ${s(nft.bareOwnText)}`,
    `${(nft.full / nft.bareOwnText).toFixed(2)}×`,
  ],
  [
    `nft: full sync ${nftServices.toLocaleString('en')}, CPU seconds`,
    s(nft.fullCpu),
    `bare restore ${s(nft.bareCpu)}`,
    `${(nft.fullCpu / nft.bareCpu).toFixed(2)}×`,
  ],
  [
    `nft: one endpoint changed (${nftServices.toLocaleString('en')})`,
    s(nft.oneChange),
    `bare restore ${s(nft.oneChangeBare)}`,
    `${(nft.oneChange / nft.oneChangeBare).toFixed(2)}×`,
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
