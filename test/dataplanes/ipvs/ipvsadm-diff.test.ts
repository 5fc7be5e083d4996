import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cidrContains } from '../../../src/dataplanes/iptables/cidr.js';
import { parseIpvsadmSave, virtualServerAddress } from '../../../src/dataplanes/ipvs/ipvs-table.js';
import { applyIpvsTable } from '../../../src/dataplanes/ipvs/ipvsadm-apply.js';
import { diffIpvsTables } from '../../../src/dataplanes/ipvs/ipvsadm-diff.js';
import { parseIpvsadmConnections } from '../../../src/dataplanes/ipvs/ipvsadm-runner.js';
import { FakeIpvsadm } from './fake-ipvsadm.js';

/** `ipvsadm -Sn` as ipvsadm 1.31 prints it (written by hand): `-p`, then `-b` when there are flags. */
const kernelTable = `-A -t 10.0.0.1:80 -s rr
-a -t 10.0.0.1:80 -r 10.1.0.1:8080 -m -w 1
-a -t 10.0.0.1:80 -r 10.1.0.2:8080 -m -w 1
-A -t 10.0.0.2:443 -s sh -p 10800 -b sh-fallback,sh-port
-a -t 10.0.0.2:443 -r 10.1.0.3:8443 -m -w 1
-A -u 10.0.0.10:53 -s rr
-a -u 10.0.0.10:53 -r 10.1.0.5:53 -m -w 1
-A --sctp-service 10.0.0.20:3868 -s rr
-a --sctp-service 10.0.0.20:3868 -r 10.1.0.6:3868 -m -w 1
-A -t [fd00:30::1]:80 -s rr
-a -t [fd00:30::1]:80 -r [fd00:1::1]:8080 -m -w 1
`;

/** `ipvsadm -Ln` of the same table, with connection counts. */
const kernelList = `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  10.0.0.1:80 rr
  -> 10.1.0.1:8080                Masq    1      0          0
  -> 10.1.0.2:8080                Masq    1      2          1
TCP  10.0.0.2:443 sh (sh-fallback,sh-port) persistent 10800
  -> 10.1.0.3:8443                Masq    1      0          0
UDP  10.0.0.10:53 rr
  -> 10.1.0.5:53                  Masq    1      0          4
SCTP  10.0.0.20:3868 rr
  -> 10.1.0.6:3868                Masq    1      2          0
`;

const current = parseIpvsadmSave(kernelTable);
/** The kernel's table with each virtual server owned by a Service, edited by `edit`. */
function desiredFrom(text: string) {
  const table = parseIpvsadmSave(text);
  return new Map([...table].map(([key, vs]) => [key, { ...vs, owner: `ns/${key}` }]));
}
const v4 = kernelTable.split('\n').filter((line) => !line.includes('['));
const diff = (desiredText: string, connections?: (v: string, r: string) => number) =>
  diffIpvsTables({ desired: desiredFrom(desiredText), current, ipv6: false, connections }).map((l) => l.text);

describe('ipvsadm -Sn parsed', () => {
  it('reads virtual servers with scheduler, flags, persistence, and their real servers', () => {
    const lb = current.get('-t 10.0.0.2:443');
    assert.deepEqual(
      { scheduler: lb?.scheduler, flags: lb?.flags, persistence: lb?.persistence },
      { scheduler: 'sh', flags: ['sh-fallback', 'sh-port'], persistence: 10800 },
    );
    assert.deepEqual(
      [...(current.get('-t 10.0.0.1:80')?.realServers.keys() ?? [])],
      ['10.1.0.1:8080', '10.1.0.2:8080'],
    );
    assert.deepEqual(current.get('-t [fd00:30::1]:80')?.realServers.get('[fd00:1::1]:8080'), {
      address: '[fd00:1::1]:8080',
      weight: 1,
      forward: '-m',
    });
  });

  it('reads connection counts from ipvsadm -Ln', () => {
    const counts = parseIpvsadmConnections(kernelList);
    assert.equal(counts.get('-t 10.0.0.1:80 10.1.0.2:8080'), 3);
    assert.equal(counts.get('-t 10.0.0.1:80 10.1.0.1:8080'), 0);
    assert.equal(counts.get('-u 10.0.0.10:53 10.1.0.5:53'), 4);
    assert.equal(counts.get('--sctp-service 10.0.0.20:3868 10.1.0.6:3868'), 2);
  });
});

/** The same kind of table as older ipvsadm (1.26) prints it: no `-b`, though the kernel has flags. */
const olderIpvsadmTable = `-A -t 10.0.0.2:443 -s sh -p 10800
-a -t 10.0.0.2:443 -r 10.1.0.3:8443 -m -w 1
-A -t 10.0.0.5:80 -s mh
-a -t 10.0.0.5:80 -r 10.1.0.4:80 -m -w 1
`;

describe('scheduler flags', () => {
  const wanted = desiredFrom(
    olderIpvsadmTable
      .replace('-s sh -p 10800', '-s sh -p 10800 -b sh-fallback,sh-port')
      .replace('-s mh', '-s mh -b mh-port'),
  );
  const applied = new Map([
    ['-t 10.0.0.2:443', 'sh-fallback,sh-port'],
    ['-t 10.0.0.5:80', 'mh-port'],
  ]);
  const lines = (kernel: string, appliedFlags?: ReadonlyMap<string, string>, desired = wanted) =>
    diffIpvsTables({ desired, current: parseIpvsadmSave(kernel), ipv6: false, appliedFlags }).map(
      (l) => l.text,
    );

  it('where ipvsadm prints no flags, a first sync re-states them, and later ones compare with what they applied', () => {
    assert.deepEqual(lines(olderIpvsadmTable), [
      '-E -t 10.0.0.2:443 -s sh -b sh-fallback,sh-port -p 10800',
      '-E -t 10.0.0.5:80 -s mh -b mh-port',
    ]);
    assert.deepEqual(lines(olderIpvsadmTable, applied), []);
  });

  it('a flag added to an unchanged service is applied though ipvsadm 1.31 shows no -b anywhere', () => {
    // 1.31 prints -b only where there are flags: a table without any looks like an older ipvsadm's.
    const noFlagsAnywhere = new Map([
      ['-t 10.0.0.2:443', ''],
      ['-t 10.0.0.5:80', ''],
    ]);
    assert.deepEqual(lines(olderIpvsadmTable, noFlagsAnywhere), [
      '-E -t 10.0.0.2:443 -s sh -b sh-fallback,sh-port -p 10800',
      '-E -t 10.0.0.5:80 -s mh -b mh-port',
    ]);
  });

  it('a scheduler change is still seen there, and -E carries the flags', () => {
    assert.deepEqual(lines(olderIpvsadmTable.replace('-s mh', '-s rr'), applied), [
      '-E -t 10.0.0.5:80 -s mh -b mh-port',
    ]);
  });

  it('applied through an older ipvsadm, later syncs of the same table feed it nothing', async () => {
    const runner = new FakeIpvsadm();
    runner.showsSchedulerFlags = false;
    const desired = { table: wanted, sets: new Map(), addresses: new Set<string>(), noNodeAccess: [] };
    let appliedFlags: ReadonlyMap<string, string> = new Map();
    for (let sync = 0; sync < 3; sync++) {
      const result = await applyIpvsTable({ desired, runner, ipv6: false, owners: new Map(), appliedFlags });
      assert.deepEqual([...result.failed], []);
      appliedFlags = result.appliedFlags;
    }
    assert.equal(runner.restores.length, 1);
    assert.deepEqual(runner.table.get('-t 10.0.0.5:80')?.flags, ['mh-port']);
  });

  it('a flag change reaches a kernel whose ipvsadm prints none; after a failed restore, the next sync states it again', async () => {
    const runner = new FakeIpvsadm();
    runner.showsSchedulerFlags = false;
    const plain = desiredFrom(olderIpvsadmTable);
    const desired = (table: typeof plain) => ({
      table,
      sets: new Map(),
      addresses: new Set<string>(),
      noNodeAccess: [],
    });
    const first = await applyIpvsTable({ desired: desired(plain), runner, ipv6: false, owners: new Map() });
    runner.failOn = (line) => line.startsWith('-E -t 10.0.0.5:80');
    const second = await applyIpvsTable({
      desired: desired(wanted),
      runner,
      ipv6: false,
      owners: first.owners,
      appliedFlags: first.appliedFlags,
    });
    assert.deepEqual(runner.table.get('-t 10.0.0.2:443')?.flags, ['sh-fallback', 'sh-port']);
    assert.deepEqual(runner.table.get('-t 10.0.0.5:80')?.flags, []);
    runner.failOn = () => false;
    await applyIpvsTable({
      desired: desired(wanted),
      runner,
      ipv6: false,
      owners: second.owners,
      appliedFlags: second.appliedFlags,
    });
    assert.match(runner.restores.at(-1) ?? '', /-E -t 10\.0\.0\.5:80 -s mh -b mh-port\n/);
    assert.deepEqual(runner.table.get('-t 10.0.0.5:80')?.flags, ['mh-port']);
  });

  it('where ipvsadm prints -b, a flag change is seen', () => {
    const kernel = olderIpvsadmTable
      .replace('-s sh -p 10800', '-s sh -p 10800 -b sh-port')
      .replace('-s mh', '-s mh -b mh-port');
    assert.deepEqual(lines(kernel), ['-E -t 10.0.0.2:443 -s sh -b sh-fallback,sh-port -p 10800']);
  });
});

describe('diff against the kernel', () => {
  it('an unchanged table gives no lines', () => {
    assert.deepEqual(diff(v4.join('\n')), []);
  });

  it('adds a virtual server with its real servers, and a real server to an existing one', () => {
    const text = [
      ...v4,
      '-a -t 10.0.0.1:80 -r 10.1.0.9:8080 -m -w 1',
      '-A -t 10.0.0.3:80 -s wrr',
      '-a -t 10.0.0.3:80 -r 10.1.0.4:80 -m -w 1',
    ];
    assert.deepEqual(diff(text.join('\n')), [
      '-a -t 10.0.0.1:80 -r 10.1.0.9:8080 -m -w 1',
      '-A -t 10.0.0.3:80 -s wrr',
      '-a -t 10.0.0.3:80 -r 10.1.0.4:80 -m -w 1',
    ]);
  });

  it('edits a weight and a scheduler; persistence added and removed', () => {
    const text = v4
      .map((l) => l.replace('-r 10.1.0.1:8080 -m -w 1', '-r 10.1.0.1:8080 -m -w 3'))
      .map((l) => l.replace('-A -t 10.0.0.1:80 -s rr', '-A -t 10.0.0.1:80 -s lc -p 60'))
      .map((l) => l.replace(' -p 10800', ''));
    assert.deepEqual(diff(text.join('\n')), [
      '-E -t 10.0.0.1:80 -s lc -p 60',
      '-e -t 10.0.0.1:80 -r 10.1.0.1:8080 -m -w 3',
      '-E -t 10.0.0.2:443 -s sh -b sh-fallback,sh-port',
    ]);
  });

  it('removes virtual servers no longer wanted, and only those of its own family', () => {
    const text = v4.filter((l) => !l.includes('10.0.0.2:443'));
    assert.deepEqual(diff(text.join('\n')), ['-D -t 10.0.0.2:443']);
  });

  it('removes an idle real server at once, drains a busy TCP one at weight 0, removes busy UDP and SCTP ones at once', () => {
    const counts = parseIpvsadmConnections(kernelList);
    const connections = (v: string, r: string) => counts.get(`${v} ${r}`) ?? 0;
    const gone = ['-r 10.1.0.1:', '-r 10.1.0.2:', '-r 10.1.0.5:', '-r 10.1.0.6:'];
    const text = v4.filter((l) => !gone.some((real) => l.includes(real)));
    assert.deepEqual(diff(text.join('\n'), connections), [
      '-d -t 10.0.0.1:80 -r 10.1.0.1:8080',
      '-e -t 10.0.0.1:80 -r 10.1.0.2:8080 -m -w 0',
      '-d -u 10.0.0.10:53 -r 10.1.0.5:53',
      '-d --sctp-service 10.0.0.20:3868 -r 10.1.0.6:3868',
    ]);
  });

  it('a draining real server at weight 0 is left alone until its connections end, then removed', () => {
    const draining = parseIpvsadmSave(
      kernelTable.replace('-r 10.1.0.2:8080 -m -w 1', '-r 10.1.0.2:8080 -m -w 0'),
    );
    const desired = desiredFrom(v4.filter((l) => !l.includes('-r 10.1.0.2:')).join('\n'));
    const lines = (open: number) =>
      diffIpvsTables({ desired, current: draining, ipv6: false, connections: () => open }).map((l) => l.text);
    assert.deepEqual(lines(3), []);
    assert.deepEqual(lines(0), ['-d -t 10.0.0.1:80 -r 10.1.0.2:8080']);
  });

  it('keeps virtual servers in excludeCIDRs though they are not wanted', () => {
    const text = v4.filter((l) => !l.includes('10.0.0.2:443') && !l.includes('10.0.0.10:53'));
    const keep = (key: string) => cidrContains('10.0.0.8/29', virtualServerAddress(key));
    const lines = diffIpvsTables({ desired: desiredFrom(text.join('\n')), current, ipv6: false, keep });
    assert.deepEqual(
      lines.map((l) => l.text),
      ['-D -t 10.0.0.2:443'],
    );
    assert.equal(virtualServerAddress('-t [fd00:30::1]:80'), 'fd00:30::1');
  });

  it('IPv6 virtual servers are bracketed, and the IPv4 ones are not touched by the IPv6 data plane', () => {
    const v6 = kernelTable.split('\n').filter((l) => l.includes('['));
    const desired = desiredFrom([...v6, '-a -t [fd00:30::1]:80 -r [fd00:1::2]:8080 -m -w 1'].join('\n'));
    const lines = diffIpvsTables({ desired, current, ipv6: true }).map((l) => l.text);
    assert.deepEqual(lines, ['-a -t [fd00:30::1]:80 -r [fd00:1::2]:8080 -m -w 1']);
  });

  it('each line names the Service port it is for', () => {
    const desired = desiredFrom('-A -t 10.0.0.7:80 -s rr');
    const lines = diffIpvsTables({ desired, current: new Map(), ipv6: false });
    assert.deepEqual(lines, [{ text: '-A -t 10.0.0.7:80 -s rr', owner: 'ns/-t 10.0.0.7:80' }]);
  });
});
