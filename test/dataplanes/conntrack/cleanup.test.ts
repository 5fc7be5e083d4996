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

/** A `conntrack` that answers every delete with `answer` and records the filters it was given. */
function fakeConntrack(answer: CommandResult) {
  const calls: string[] = [];
  return {
    calls,
    run: async (args: readonly string[]) => {
      calls.push(args.join(' '));
      return answer;
    },
  };
}

const deleted = (n: number): CommandResult => ({
  code: n > 0 ? 0 : 1,
  stdout: '',
  stderr: `conntrack v1.4.7 (conntrack-tools): ${n} flow entries have been deleted.\n`,
});

describe('ConntrackCleaningDataplane', () => {
  test('deletes the entries of a removed endpoint after the sync and counts them', async () => {
    const conntrack = fakeConntrack(deleted(2));
    const dataplane = new ConntrackCleaningDataplane(fakeDataplane(), { run: conntrack.run });
    await dataplane.sync(dns(), new Set());
    conntrack.calls.length = 0;
    await dataplane.sync(dns([pod2]), new Set(['kube-system/dns:udp']));
    assert.deepEqual(conntrack.calls, [
      '-D -f ipv4 -p udp --orig-dst 172.30.0.10 --orig-port-dst 53 --reply-src 10.1.0.1 --reply-port-src 5353',
    ]);
    assert.equal(dataplane.counters.entriesDeleted, 4);
    assert.equal(dataplane.counters.failures, 0);
  });

  test('"0 flow entries" (exit 1) is no failure', async () => {
    const conntrack = fakeConntrack(deleted(0));
    const dataplane = new ConntrackCleaningDataplane(fakeDataplane(), { run: conntrack.run });
    const { lines } = await captureStderr(() => dataplane.sync(dns(), new Set()));
    assert.equal(conntrack.calls.length, 1);
    assert.deepEqual(dataplane.counters, { flowsCleaned: 0, entriesDeleted: 0, failures: 0 });
    assert.deepEqual(lines, []);
  });

  test('a missing conntrack tool is logged and counted once per sync; the sync still succeeds', async () => {
    const conntrack = fakeConntrack({ code: 127, stdout: '', stderr: 'Error: spawn conntrack ENOENT' });
    const dataplane = new ConntrackCleaningDataplane(fakeDataplane(), { run: conntrack.run });
    await captureStderr(() => dataplane.sync(dns([pod1, pod2]), new Set()));
    const { result, lines } = await captureStderr(() => dataplane.sync(stateOf(), new Set()));
    assert.equal(result.failed.size, 0);
    assert.equal(conntrack.calls.length, 2, 'one try per sync, not one per filter');
    assert.equal(dataplane.counters.failures, 2);
    assert.match(
      lines.join('\n'),
      /^E.*cleanup\.go\] "Failed to clear conntrack entries: the conntrack tool is not installed"/m,
    );
  });

  test('a failed delete is logged with its filter and does not stop the others', async () => {
    const conntrack = fakeConntrack({
      code: 1,
      stdout: '',
      stderr: 'conntrack v1.4.7: Operation failed: invalid parameters',
    });
    const dataplane = new ConntrackCleaningDataplane(fakeDataplane(), { run: conntrack.run });
    await captureStderr(() => dataplane.sync(dns(), new Set()));
    const { lines } = await captureStderr(() => dataplane.sync(stateOf(), new Set()));
    assert.equal(conntrack.calls.length, 3);
    assert.equal(dataplane.counters.failures, 3);
    assert.match(
      lines.join('\n'),
      /filter="-D -f ipv4 -p udp --orig-dst 172\.30\.0\.10 .*--reply-src 10\.1\.0\.2/,
    );
  });

  test('a service port the data plane failed to program is cleaned once a later sync programs it', async () => {
    const conntrack = fakeConntrack(deleted(1));
    let failing: string[] = [];
    const dataplane = new ConntrackCleaningDataplane(
      fakeDataplane(() => failing),
      { run: conntrack.run },
    );
    await dataplane.sync(dns(), new Set());
    conntrack.calls.length = 0;
    failing = ['kube-system/dns:udp'];
    await dataplane.sync(dns([pod2]), new Set(['kube-system/dns:udp']));
    assert.equal(conntrack.calls.length, 0, 'the kernel still sends to pod1: its entries are not stale yet');
    failing = [];
    await dataplane.sync(dns([pod2]), new Set(['kube-system/dns:udp']));
    assert.match(conntrack.calls.join('\n'), /^-D .*--reply-src 10\.1\.0\.1 --reply-port-src 5353$/);
    assert.equal(conntrack.calls.length, 1);
  });
});
