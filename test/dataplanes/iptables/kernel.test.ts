import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { cleanupProxyState } from '../../../src/cli/cleanup.js';
import { endpointCountsFromSave } from '../../../src/dataplanes/iptables/endpoint-counters.js';
import { IptablesDataplane } from '../../../src/dataplanes/iptables/iptables-dataplane.js';
import { runChecked } from '../../../src/dataplanes/netns.js';
import { endpoint, type PortSpec, renderOptions, stateOf } from './fixtures.js';
import {
  connectMany,
  createLab,
  kernelTestsUnavailable,
  type Lab,
  labClientIPs,
  labNodeIP,
  podPort,
  skipReason,
} from './netns-lab.js';

const skip = skipReason(await kernelTestsUnavailable());

function labServices(podIPs: readonly string[]): PortSpec[] {
  const all = podIPs.map((ip, i) => endpoint(ip, podPort, i === 0));
  return [
    {
      namespace: 'lab',
      name: 'web',
      port: 80,
      clusterIP: '172.30.0.10',
      nodePort: 30080,
      externalIPs: ['192.168.99.11'],
      endpoints: all,
    },
    {
      namespace: 'lab',
      name: 'sticky',
      port: 80,
      clusterIP: '172.30.0.11',
      sessionAffinity: { type: 'ClientIP', timeoutSeconds: 600 },
      endpoints: all,
    },
    {
      namespace: 'lab',
      name: 'lb',
      port: 80,
      clusterIP: '172.30.0.12',
      loadBalancerIPs: ['5.6.7.8'],
      loadBalancerSourceRanges: [`${labClientIPs[0]}/32`],
      endpoints: all,
    },
    {
      namespace: 'lab',
      name: 'local',
      port: 80,
      clusterIP: '172.30.0.13',
      nodePort: 30081,
      externalTrafficPolicy: 'Local',
      endpoints: all,
    },
    { namespace: 'lab', name: 'empty', port: 80, clusterIP: '172.30.0.14' },
  ];
}

/** What cleanup must leave as it was: iptables rules, nftables tables, links. */
async function snapshot(netns: string): Promise<string> {
  const rules = (await runChecked(['iptables-save'], { netns }))
    .split('\n')
    .filter((line) => !line.startsWith('#'));
  const tables = await runChecked(['nft', 'list', 'tables'], { netns });
  const links = (await runChecked(['ip', '-o', 'link', 'show'], { netns }))
    .replace(/^\d+: /gm, '')
    .split('\n')
    .map((l) => l.split(':')[0]);
  return [...rules, tables, ...links].join('\n');
}

/** Pearson's chi-square against a uniform spread. */
function chiSquare(counts: number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  const expected = total / counts.length;
  return counts.reduce((sum, n) => sum + (n - expected) ** 2 / expected, 0);
}

describe('iptables mode in a private network namespace', { skip }, () => {
  let lab: Lab;
  let dataplane: IptablesDataplane;
  let pristine: string;

  before(async () => {
    lab = await createLab('k', 3);
    // Rules that are not the proxy's, which cleanup must leave alone.
    const userRules =
      '*filter\n:KUBE-KUBELET-CANARY - [0:0]\n:MY-CHAIN - [0:0]\n-A INPUT -p tcp --dport 22 -j MY-CHAIN\n-A MY-CHAIN -j ACCEPT\nCOMMIT\n*nat\n-A POSTROUTING -s 10.99.0.0/16 -j MASQUERADE\nCOMMIT\n';
    await runChecked(['iptables-restore', '--noflush'], { netns: lab.node, input: userRules });
    await runChecked(['nft', 'add', 'table', 'ip', 'someone-else'], { netns: lab.node });
    pristine = await snapshot(lab.node);
    dataplane = new IptablesDataplane({
      families: [renderOptions({ nodeIPs: [labNodeIP], clusterCIDRs: ['10.180.0.0/16'] })],
      netns: lab.node,
      wait: true,
      syncPeriodMs: 3_600_000,
    });
    const result = await dataplane.sync(stateOf(...labServices(lab.podIPs)), new Set());
    assert.equal(result.failed.size, 0);
  });

  after(async () => {
    await lab?.destroy();
  });

  test('ClusterIP from the node spreads randomly over the three pods (chi-square)', async () => {
    const result = await connectMany(lab.node, { host: '172.30.0.10', port: 80, count: 300 });
    assert.deepEqual(result.errors, {});
    const counts = ['pod1', 'pod2', 'pod3'].map((pod) => result.pods[pod] ?? 0);
    assert.equal(
      counts.reduce((a, b) => a + b, 0),
      300,
    );
    // 13.82 is the 0.999 quantile of chi-square with 2 degrees of freedom.
    assert.ok(chiSquare(counts) < 13.82, `counts ${counts}`);
  });

  test('NodePort and externalIP answer an outside client', async () => {
    const nodePort = await connectMany(lab.client, { host: labNodeIP, port: 30080, count: 30 });
    assert.equal(
      Object.values(nodePort.pods).reduce((a, b) => a + b, 0),
      30,
    );
    assert.ok(Object.keys(nodePort.pods).length >= 2, JSON.stringify(nodePort));
    const external = await connectMany(lab.client, { host: '192.168.99.11', port: 80, count: 10 });
    assert.equal(
      Object.values(external.pods).reduce((a, b) => a + b, 0),
      10,
    );
  });

  test('LB IP: an allowed source gets through, a disallowed one is dropped', async () => {
    const allowed = await connectMany(lab.client, {
      host: '5.6.7.8',
      port: 80,
      count: 5,
      localAddress: labClientIPs[0],
    });
    assert.equal(
      Object.values(allowed.pods).reduce((a, b) => a + b, 0),
      5,
    );
    const denied = await connectMany(lab.client, {
      host: '5.6.7.8',
      port: 80,
      count: 1,
      localAddress: labClientIPs[1],
      timeoutMs: 1000,
    });
    assert.deepEqual(denied, { pods: {}, errors: { ETIMEDOUT: 1 } });
  });

  test('session affinity keeps a client on one pod', async () => {
    const result = await connectMany(lab.node, { host: '172.30.0.11', port: 80, count: 20 });
    assert.equal(Object.keys(result.pods).length, 1, JSON.stringify(result));
    assert.equal(Object.values(result.pods)[0], 20);
  });

  test('ETP Local: outside traffic to the node port reaches only the local pod', async () => {
    const result = await connectMany(lab.client, { host: labNodeIP, port: 30081, count: 20 });
    assert.deepEqual(result, { pods: { pod1: 20 }, errors: {} });
  });

  test('a Service without endpoints refuses the connection at once', async () => {
    const result = await connectMany(lab.node, { host: '172.30.0.14', port: 80, count: 1, timeoutMs: 1000 });
    assert.deepEqual(result, { pods: {}, errors: { ECONNREFUSED: 1 } });
  });

  test("the kernel's counters give connections per endpoint", async () => {
    const counts = endpointCountsFromSave(
      await runChecked(['iptables-save', '-c', '-t', 'nat'], { netns: lab.node }),
    );
    const web = counts.filter((count) => count.servicePort === 'lab/web:p80');
    assert.deepEqual(
      web.map((count) => count.endpoint).sort(),
      lab.podIPs.map((ip) => `${ip}:${podPort}`),
    );
    // 300 ClusterIP + 30 NodePort + 10 externalIP connections went to lab/web.
    assert.equal(
      web.reduce((sum, count) => sum + count.connections, 0),
      340,
    );
  });

  test('cleanup removes what a proxy created and leaves the namespace as it found it', async () => {
    await runChecked(['nft', 'add', 'table', 'ip', 'kube-proxy'], { netns: lab.node });
    await runChecked(['ip', 'link', 'add', 'kube-ipvs0', 'type', 'bridge'], { netns: lab.node });
    const report = await cleanupProxyState(lab.node);
    assert.deepEqual(report.nftTables, ['ip kube-proxy']);
    assert.deepEqual(report.links, ['kube-ipvs0']);
    assert.ok(report.iptablesChains > 10);
    assert.equal(await snapshot(lab.node), pristine);
  });

  test('the data plane cleans up after itself too', async () => {
    await dataplane.sync(stateOf(...labServices(lab.podIPs)), new Set());
    await dataplane.cleanup();
    assert.equal(await snapshot(lab.node), pristine);
  });
});
