import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const isRoot = process.getuid?.() === 0;
const skip = isRoot ? false : 'needs root for a private network namespace and kube-ipvs0';
if (skip && process.env.CI === 'true') throw new Error(`kube-ipvs0 tests cannot run under CI: ${skip}`);

const namespace = `kp-userspace-${process.pid}`;
const fixture = fileURLToPath(new URL('./fixtures/netns-frontends.ts', import.meta.url));

function ip(...args: string[]): void {
  const result = spawnSync('ip', args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`ip ${args.join(' ')}: ${result.stderr}`);
}

describe('userspace data plane on kube-ipvs0 (private network namespace)', { skip }, () => {
  before(() => {
    ip('netns', 'add', namespace);
    ip('-n', namespace, 'link', 'set', 'lo', 'up');
  });
  after(() => {
    spawnSync('ip', ['netns', 'del', namespace]);
  });

  it('puts Service addresses on kube-ipvs0, serves every frontend kind, and removes the interface on cleanup', () => {
    const run = spawnSync('ip', ['netns', 'exec', namespace, process.execPath, '--import', 'tsx', fixture], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(run.status, 0, run.stderr);
    const seen = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}');
    assert.deepEqual(seen.failed, []);
    assert.deepEqual(seen.addresses, ['10.96.0.10/32', '192.0.2.10/32', '198.51.100.10/32']);
    assert.ok(['dummy', 'bridge'].includes(seen.linkKind), `kube-ipvs0 is ${seen.linkKind}`);
    assert.equal(seen.clusterIP, 'pod-a|ping|end');
    assert.equal(seen.nodePort, 'pod-a|ping|end');
    assert.equal(seen.externalIP, 'pod-a|ping|end');
    assert.equal(seen.loadBalancerFromRange, 'pod-a|ping|end');
    assert.equal(seen.loadBalancerFromElsewhere, 'error:ECONNRESET');
    assert.equal(seen.udpClusterIP, 'pod-u:q');
    assert.equal(seen.interfaceAfterCleanup, '');
  });
});
