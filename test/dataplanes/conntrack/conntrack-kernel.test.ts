import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { ConntrackCleaningDataplane } from '../../../src/dataplanes/conntrack-cleanup.js';
import type { Dataplane } from '../../../src/dataplanes/dataplane.js';
import { IptablesDataplane } from '../../../src/dataplanes/iptables/iptables-dataplane.js';
import { NftablesDataplane } from '../../../src/dataplanes/nftables/nftables-dataplane.js';
import type { ProxyState } from '../../../src/model/proxy-state.js';
import { endpoint, renderOptions, stateOf } from '../nftables/fixtures.js';
import { kernelSkipReason, NetnsLab } from '../nftables/netns-lab.js';
import { askUdp, startUdpPods } from './udp-pods.js';

/**
 * A UDP client keeps one source port; the endpoint its first datagram reached is removed, or the
 * Service it was already sending to appears. The kernel's conntrack entry would keep steering
 * its datagrams the old way: each case runs once with the bare data plane (to show that) and
 * once with the cleanup (which must fix it).
 */

function skipReason(): string | undefined {
  const reason = kernelSkipReason() ?? missingTool('iptables-restore') ?? missingTool('conntrack');
  if (reason && process.env.CI === 'true') throw new Error(`CI=true but ${reason}`);
  return reason;
}

function missingTool(tool: string): string | undefined {
  try {
    execFileSync(tool, ['--version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return `${tool} is not installed`;
  }
}

const skip = skipReason();
const pods = ['10.180.0.1', '10.180.0.2'];
const podPort = 5353;
const podAddresses = pods.map((ip) => `${ip}:${podPort}`);
const dns = {
  id: 'lab/dns:udp',
  clusterIP: '172.30.0.10',
  port: 53,
  nodePort: 30053,
  protocol: 'UDP' as const,
};

function dnsState(ips: readonly string[]): ProxyState {
  return stateOf({ ...dns, endpoints: ips.map((ip) => endpoint(ip, podPort)) });
}

const modes: Record<string, (lab: NetnsLab) => Dataplane> = {
  iptables: (lab) =>
    new IptablesDataplane({
      families: [renderOptions({ nodeIPs: [lab.nodeIP], clusterCIDRs: ['10.180.0.0/16'] })],
      netns: lab.node,
      wait: true,
      syncPeriodMs: 60_000,
    }),
  nftables: (lab) =>
    new NftablesDataplane({
      render: renderOptions({ nodeIPs: [lab.nodeIP], clusterCIDRs: ['10.180.0.0/16'] }),
      runner: lab.nft(),
    }),
};

for (const [mode, build] of Object.entries(modes)) {
  describe(`${mode} mode: stale UDP conntrack entries`, { skip, timeout: 60_000 }, () => {
    const lab = new NetnsLab(`ct${mode.slice(0, 3)}`);
    let server: ChildProcess | undefined;
    before(async () => {
      lab.create();
      server = await startUdpPods(lab.node, pods, podPort);
    });
    after(() => {
      server?.kill();
      lab.destroy();
    });

    const clusterIP = { host: dns.clusterIP, port: dns.port };
    const ask = (sourcePort: number, count: number, timeoutMs = 1000, to = clusterIP) =>
      askUdp(lab.client, {
        ...to,
        source: { address: lab.clientIPs[0] as string, port: sourcePort },
        count,
        timeoutMs,
      });

    /** Syncs both pods, asks, removes the pod that answered; returns it, the other, and the next answers. */
    async function removeTheReachedPod(dataplane: Dataplane, sourcePort: number, to = clusterIP) {
      await dataplane.sync(dnsState(pods), new Set());
      const first = await ask(sourcePort, 3, 1000, to);
      const reached = first[0] as string;
      assert.ok(podAddresses.includes(reached), `answered by a pod: ${first}`);
      assert.deepEqual(first, [reached, reached, reached], 'one source port sticks to one pod');
      const remaining = podAddresses.find((address) => address !== reached) as string;
      await dataplane.sync(dnsState(pods.filter((ip) => !reached.startsWith(`${ip}:`))), new Set([dns.id]));
      return { reached, remaining, next: await ask(sourcePort, 3, 1000, to) };
    }

    test('without the cleanup, datagrams keep reaching the removed endpoint', async () => {
      const { reached, next } = await removeTheReachedPod(build(lab), 40001);
      assert.deepEqual(next, [reached, reached, reached]);
    });

    test('with the cleanup, the next datagrams reach the remaining endpoint', async () => {
      const dataplane = new ConntrackCleaningDataplane(build(lab), { netns: lab.node });
      const { remaining, next } = await removeTheReachedPod(dataplane, 40002);
      assert.deepEqual(next, [remaining, remaining, remaining]);
      assert.equal(dataplane.counters.failures, 0);
      assert.ok(dataplane.counters.entriesDeleted >= 1);
    });

    test('with the cleanup, datagrams to the node port reach the remaining endpoint', async () => {
      const dataplane = new ConntrackCleaningDataplane(build(lab), { netns: lab.node });
      const nodePort = { host: lab.nodeIP, port: dns.nodePort };
      const { remaining, next } = await removeTheReachedPod(dataplane, 40005, nodePort);
      assert.deepEqual(next, [remaining, remaining, remaining]);
    });

    /** Sends before the Service exists (the entry is never DNATed), then syncs it with both pods. */
    async function serviceAppearsWhileSending(dataplane: Dataplane, sourcePort: number) {
      await dataplane.sync(stateOf(), new Set());
      assert.deepEqual(await ask(sourcePort, 1, 300), ['timeout']);
      await dataplane.sync(dnsState(pods), new Set([dns.id]));
      return ask(sourcePort, 2, 300);
    }

    test('without the cleanup, a client that sent before the Service existed gets no answer', async () => {
      assert.deepEqual(await serviceAppearsWhileSending(build(lab), 40003), ['timeout', 'timeout']);
    });

    test('with the cleanup, a client that sent before the Service existed reaches a pod', async () => {
      const dataplane = new ConntrackCleaningDataplane(build(lab), { netns: lab.node });
      const answers = await serviceAppearsWhileSending(dataplane, 40004);
      assert.equal(answers.length, 2);
      for (const answer of answers) assert.ok(podAddresses.includes(answer), `answered by a pod: ${answers}`);
    });
  });
}
