import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AffinityTable } from '../../../src/dataplanes/userspace/affinity-table.js';
import { newBackend } from '../../../src/dataplanes/userspace/backend.js';
import { cidrFilter } from '../../../src/dataplanes/userspace/cidr-filter.js';
import { KproxyError } from '../../../src/errors.js';
import { podEndpoint } from './helpers.js';

describe('affinity table (IPVS persistence)', () => {
  it('keeps a client on its backend while the entry lives, renewed by each connection', () => {
    let now = 0;
    const table = new AffinityTable(10_000, () => now);
    const backend = newBackend(podEndpoint({ name: 'a', port: 1 }));
    table.remember('10.0.0.2', backend);
    now = 9_000;
    assert.equal(table.lookup('10.0.0.2'), backend, 'renewed at 9 s');
    now = 18_000;
    assert.equal(table.lookup('10.0.0.2'), backend, 'still alive: 9 s after the renewal');
    now = 28_001;
    assert.equal(table.lookup('10.0.0.2'), undefined, 'expired 10 s after the last use');
  });

  it('drops entries of removed, not-ready and held-back backends', () => {
    const table = new AffinityTable(60_000);
    const removed = newBackend(podEndpoint({ name: 'a', port: 1 }));
    const draining = newBackend(podEndpoint({ name: 'b', port: 2 }));
    const heldBack = newBackend(podEndpoint({ name: 'c', port: 3 }));
    table.remember('10.0.0.1', removed);
    table.remember('10.0.0.2', draining);
    table.remember('10.0.0.3', heldBack);
    removed.current = false;
    draining.weight = 0;
    heldBack.overloaded = true;
    table.dropUnusable();
    assert.equal(table.size, 1);
    assert.equal(table.lookup('10.0.0.3'), undefined);
    assert.equal(table.size, 0);
  });
});

describe('CIDR filter (loadBalancerSourceRanges, nodePortAddresses)', () => {
  it('matches IPv4, IPv6 and IPv4-mapped IPv6 clients against their ranges', () => {
    const admits = cidrFilter(
      ['203.0.113.0/24', '2001:db8::/32'],
      'service ns/a: spec.loadBalancerSourceRanges',
    );
    assert.equal(admits('203.0.113.77'), true);
    assert.equal(admits('::ffff:203.0.113.9'), true);
    assert.equal(admits('203.0.114.1'), false);
    assert.equal(admits('2001:db8:1::5'), true);
    assert.equal(admits('2001:db9::5'), false);
    assert.equal(cidrFilter([], 'x')('198.51.100.1'), true, 'no ranges: everyone');
  });

  it('rejects a bad range with the field named', () => {
    assert.throws(
      () => cidrFilter(['10.0.0.0/33'], 'service ns/a: spec.loadBalancerSourceRanges'),
      (error: unknown) =>
        error instanceof KproxyError &&
        error.code === 'KPROXY_E_MANIFEST' &&
        /ns\/a: spec\.loadBalancerSourceRanges: "10\.0\.0\.0\/33"/.test(error.message),
    );
  });
});
