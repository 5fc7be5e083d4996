import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConntrackCleaningDataplane } from '../../../src/dataplanes/conntrack-cleanup.js';
import type { Dataplane, SyncResult } from '../../../src/dataplanes/dataplane.js';
import type { CommandResult } from '../../../src/dataplanes/netns.js';
import type { ProxyState } from '../../../src/model/proxy-state.js';
import { captureStderr } from '../../servers/fixtures.js';
import { endpoint, stateOf } from '../nftables/fixtures.js';

const pod1 = endpoint('10.1.0.1', 5353);
const pod2 = endpoint('10.1.0.2', 5353);
const dns = (endpoints = [pod1, pod2]) =>
  stateOf({ id: 'kube-system/dns:udp', clusterIP: '172.30.0.10', port: 53, protocol: 'UDP', endpoints });

/** A data plane that reports the given service ports as failed on its next syncs. */
function fakeDataplane(failing: () => string[] = () => []): Dataplane & { syncs: number } {
  return {
    name: 'fake',
    syncs: 0,
    async sync(_state: ProxyState): Promise<SyncResult> {
      this.syncs++;
      return { failed: new Map(failing().map((id) => [id, new Error('rejected')])) };
    },
    async cleanup() {},
  };
}

/** `conntrack -L -p udp` output: an entry DNATed to each pod, and one never DNATed. */
const listing = [
  'udp 17 29 src=192.168.50.2 dst=172.30.0.10 sport=40001 dport=53 src=10.1.0.1 dst=192.168.50.2 sport=5353 dport=40001 mark=0 use=1',
  'udp 17 29 src=192.168.50.2 dst=172.30.0.10 sport=40002 dport=53 src=10.1.0.2 dst=192.168.50.2 sport=5353 dport=40002 mark=0 use=1',
  'udp 17 29 src=192.168.50.2 dst=172.30.0.10 sport=40003 dport=53 [UNREPLIED] src=172.30.0.10 dst=192.168.50.2 sport=53 dport=40003 mark=0 use=1',
].join('\n');

/** A `conntrack` that lists `list` and answers every delete with `del`; it records the delete filters. */
function fakeConntrack(answers: { del: CommandResult; list?: CommandResult }) {
  const deletes: string[] = [];
  const counts = { listings: 0 };
  return {
    deletes,
    counts,
    run: async (args: readonly string[]) => {
      if (args[0] === '-L') {
        counts.listings++;
        return answers.list ?? { code: 0, stdout: listing, stderr: '' };
      }
      deletes.push(args.join(' '));
      return answers.del;
    },
  };
}

/** What `conntrack -D` answers when it deleted `n` entries (exit 1 for none). */
function deleted(n: number): CommandResult {
  return {
    code: n > 0 ? 0 : 1,
    stdout: '',
    stderr: `conntrack v1.4.7 (conntrack-tools): ${n} flow entries have been deleted.\n`,
  };
}

describe('ConntrackCleaningDataplane', () => {
  test('deletes the entries of a removed endpoint after the sync and counts them', async () => {
    const conntrack = fakeConntrack({ del: deleted(1) });
    const dataplane = new ConntrackCleaningDataplane(fakeDataplane(), { run: conntrack.run });
    await dataplane.sync(dns(), new Set());
    assert.deepEqual(conntrack.deletes, [
      '-D -f ipv4 -p udp --orig-dst 172.30.0.10 --orig-port-dst 53 --reply-src 172.30.0.10',
    ]);
    conntrack.deletes.length = 0;
    await dataplane.sync(dns([pod2]), new Set(['kube-system/dns:udp']));
    assert.deepEqual(conntrack.deletes, [
      '-D -f ipv4 -p udp --orig-dst 172.30.0.10 --orig-port-dst 53 --reply-src 10.1.0.1 --reply-port-src 5353',
    ]);
    assert.deepEqual(dataplane.counters, { flowsCleaned: 2, entriesDeleted: 2, failures: 0 });
  });

  test('a filter that matches no listed entry spawns no delete; no filter, no listing', async () => {
    const conntrack = fakeConntrack({ del: deleted(1), list: { code: 0, stdout: '', stderr: '' } });
    const dataplane = new ConntrackCleaningDataplane(fakeDataplane(), { run: conntrack.run });
    await dataplane.sync(dns(), new Set());
    await dataplane.sync(dns([pod2]), new Set(['kube-system/dns:udp']));
    assert.deepEqual(conntrack.deletes, []);
    assert.equal(conntrack.counts.listings, 2);
    await dataplane.sync(dns([pod2]), new Set(['kube-system/dns:udp']));
    assert.equal(conntrack.counts.listings, 2);
  });

  test('"0 flow entries" (exit 1: gone since the listing) is no failure', async () => {
    const conntrack = fakeConntrack({ del: deleted(0) });
    const dataplane = new ConntrackCleaningDataplane(fakeDataplane(), { run: conntrack.run });
    const { lines } = await captureStderr(() => dataplane.sync(dns(), new Set()));
    assert.equal(conntrack.deletes.length, 1);
    assert.deepEqual(dataplane.counters, { flowsCleaned: 0, entriesDeleted: 0, failures: 0 });
    assert.deepEqual(lines, []);
  });

  test('a missing conntrack tool is logged and counted once per sync; the sync still succeeds', async () => {
    const missing = { code: 127, stdout: '', stderr: 'Error: spawn conntrack ENOENT' };
    const conntrack = fakeConntrack({ del: missing, list: missing });
    const dataplane = new ConntrackCleaningDataplane(fakeDataplane(), { run: conntrack.run });
    await captureStderr(() => dataplane.sync(dns([pod1, pod2]), new Set()));
    const { result, lines } = await captureStderr(() => dataplane.sync(stateOf(), new Set()));
    assert.equal(result.failed.size, 0);
    assert.equal(conntrack.counts.listings, 2, 'one try per sync');
    assert.deepEqual(conntrack.deletes, []);
    assert.equal(dataplane.counters.failures, 2);
    assert.equal(lines.length, 1);
    assert.match(
      lines[0] as string,
      /^E.*cleanup\.go\] "Failed to clear conntrack entries: the conntrack tool is not installed" filters=2/,
    );
  });

  test('a listing that fails deletes by filter alone', async () => {
    const conntrack = fakeConntrack({
      del: deleted(1),
      list: { code: 1, stdout: '', stderr: 'conntrack v1.4.7: Operation failed: Interrupted system call' },
    });
    const dataplane = new ConntrackCleaningDataplane(fakeDataplane(), { run: conntrack.run });
    await captureStderr(() => dataplane.sync(dns(), new Set()));
    const { lines } = await captureStderr(() => dataplane.sync(stateOf(), new Set()));
    assert.equal(conntrack.deletes.length, 3);
    assert.equal(dataplane.counters.failures, 2);
    assert.match(lines.join('\n'), /^W.*"Failed to list conntrack entries, deleting by filter alone"/);
  });

  test('a failed delete is logged with its filter and does not stop the others', async () => {
    const conntrack = fakeConntrack({
      del: { code: 1, stdout: '', stderr: 'conntrack v1.4.7: Operation failed: invalid parameters' },
    });
    const dataplane = new ConntrackCleaningDataplane(fakeDataplane(), { run: conntrack.run });
    await captureStderr(() => dataplane.sync(dns(), new Set()));
    const { lines } = await captureStderr(() => dataplane.sync(stateOf(), new Set()));
    assert.equal(conntrack.deletes.length, 3);
    assert.equal(dataplane.counters.failures, 3);
    assert.match(
      lines.join('\n'),
      /filter="-D -f ipv4 -p udp --orig-dst 172\.30\.0\.10 .*--reply-src 10\.1\.0\.2/,
    );
  });

  test('a service port the data plane failed to program is cleaned once a later sync programs it', async () => {
    const conntrack = fakeConntrack({ del: deleted(1) });
    let failing: string[] = [];
    const dataplane = new ConntrackCleaningDataplane(
      fakeDataplane(() => failing),
      { run: conntrack.run },
    );
    await dataplane.sync(dns(), new Set());
    conntrack.deletes.length = 0;
    failing = ['kube-system/dns:udp'];
    await dataplane.sync(dns([pod2]), new Set(['kube-system/dns:udp']));
    assert.equal(
      conntrack.deletes.length,
      0,
      'the kernel still sends to pod1: its entries are not stale yet',
    );
    failing = [];
    await dataplane.sync(dns([pod2]), new Set(['kube-system/dns:udp']));
    assert.match(conntrack.deletes.join('\n'), /^-D .*--reply-src 10\.1\.0\.1 --reply-port-src 5353$/);
    assert.equal(conntrack.deletes.length, 1);
  });
});
