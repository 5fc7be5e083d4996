import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addressKey, hash32, sipHasher } from '../../src/schedulers/hashing.js';
import { createScheduler } from '../../src/schedulers/registry.js';
import type { Destination } from '../../src/schedulers/scheduler.js';
import { maglevTable, weightedBucketTable } from '../../src/schedulers/tables.js';
import { connection, destinations, evenDestinations } from './helpers.js';

/** Shares of picks over `clients` client IPs 172.16.x.y (and ports when `ports`). */
function shares(
  name: string,
  list: Destination[],
  flags: string[],
  clients: number,
  ports = false,
): number[] {
  const scheduler = createScheduler(name, { flags });
  scheduler.update(list);
  const counts = list.map(() => 0);
  for (let i = 0; i < clients; i++) {
    const picked = scheduler.pick(
      connection({ clientIP: `172.16.${(i >> 8) & 255}.${i & 255}`, clientPort: ports ? 1024 + i : 40000 }),
    );
    if (picked) counts[list.indexOf(picked)] = (counts[list.indexOf(picked)] ?? 0) + 1;
  }
  return counts.map((count) => count / clients);
}

describe('hash functions', () => {
  it('hash32 is the kernel hash_32', () => {
    // hash_32(1, 8) = (0x61c88647 >> 24) = 0x61; hash_32(0x0a000001, 8) from 0x0a000001 × 0x61c88647 mod 2^32.
    assert.equal(hash32(1, 8), 0x61);
    assert.equal(hash32(0x0a000001, 32), Math.imul(0x0a000001, 0x61c88647) >>> 0);
  });

  it('addressKey reads IPv4, IPv4-mapped IPv6 and folds IPv6 as the kernel does', () => {
    assert.equal(addressKey('10.0.0.1'), 0x0a000001);
    assert.equal(addressKey('::ffff:10.0.0.1'), 0x0a000001);
    assert.equal(addressKey('2001:db8::1'), (0x20010db8 ^ 0 ^ 0 ^ 1) >>> 0);
    assert.throws(() => addressKey('10.0.0'));
  });

  it('sipHasher matches the SipHash-2-4 reference vector (key 00..0f, message 00 01 02 03)', () => {
    const key = { k0: 0x0706050403020100n, k1: 0x0f0e0d0c0b0a0908n };
    const hash = sipHasher(key, { compression: 2, finalization: 4 });
    assert.equal(hash(0x03020100, 0x7fffffff), 0x277187b7);
    assert.equal(hash(0x03020100, 65521), 0x277187b7 % 65521);
  });
});

describe('sh and dh bucket tables', () => {
  it('fills 256 buckets in list order, each destination as many in a row as its weight', () => {
    const table = weightedBucketTable([3, 2, 0, 1]);
    assert.equal(table.length, 256);
    assert.deepEqual([...table.slice(0, 14)], [0, 0, 0, 1, 1, 2, 3, 0, 0, 0, 1, 1, 2, 3]);
    assert.deepEqual([...weightedBucketTable([], 4)], [-1, -1, -1, -1]);
  });

  it('sh sends a client IP always to the same endpoint, whatever its port', () => {
    const list = evenDestinations(5);
    const scheduler = createScheduler('sh');
    scheduler.update(list);
    const first = scheduler.pick(connection({ clientIP: '10.9.8.7', clientPort: 1 }));
    for (let port = 2; port < 200; port++) {
      assert.equal(scheduler.pick(connection({ clientIP: '10.9.8.7', clientPort: port })), first);
    }
  });

  it('sh shares follow the weights over many client IPs', () => {
    const observed = shares('sh', destinations({ weight: 1 }, { weight: 2 }, { weight: 5 }), [], 20000);
    [1 / 8, 2 / 8, 5 / 8].forEach((expected, i) => {
      assert.ok(Math.abs((observed[i] ?? 0) - expected) < 0.03, `share ${i}: ${observed[i]} vs ${expected}`);
    });
  });

  it('sh-port spreads one client IP over the endpoints by port', () => {
    const list = evenDestinations(4);
    const scheduler = createScheduler('sh', { flags: ['sh-port'] });
    scheduler.update(list);
    const reached = new Set<Destination | undefined>();
    for (let port = 1024; port < 1100; port++) reached.add(scheduler.pick(connection({ clientPort: port })));
    assert.equal(reached.size, 4);
  });

  it('without sh-fallback a weight-0 endpoint drops its clients; with it they move, the others stay', () => {
    const list = evenDestinations(4);
    const plain = createScheduler('sh');
    const fallback = createScheduler('sh', { flags: ['sh-fallback'] });
    plain.update(list);
    fallback.update(list);
    const clients = Array.from({ length: 400 }, (_, i) =>
      connection({ clientIP: `172.17.${i >> 8}.${i & 255}` }),
    );
    const before = clients.map((client) => plain.pick(client));
    const drained = list[1];
    assert.ok(drained);
    drained.weight = 0;
    plain.update(list);
    fallback.update(list);
    clients.forEach((client, i) => {
      const wasDrained = before[i] === drained;
      assert.equal(plain.pick(client), wasDrained ? undefined : before[i]);
      const moved = fallback.pick(client);
      if (wasDrained) assert.ok(moved && moved !== drained);
      else assert.equal(moved, before[i]);
      assert.equal(fallback.pick(client), moved, 'the fallback walk is the same every time');
    });
  });

  it('dh sends every client of one service IP to one endpoint, and fills its table ignoring weights', () => {
    const list = destinations({ weight: 1 }, { weight: 100 });
    const scheduler = createScheduler('dh');
    scheduler.update(list);
    const first = scheduler.pick(connection({ serviceIP: '10.96.0.10' }));
    for (let i = 0; i < 100; i++) {
      assert.equal(
        scheduler.pick(connection({ clientIP: `192.168.0.${i}`, serviceIP: '10.96.0.10' })),
        first,
      );
    }
    const counts = [0, 0];
    for (let i = 0; i < 4096; i++) {
      const picked = scheduler.pick(connection({ serviceIP: `10.96.${i >> 8}.${i & 255}` }));
      if (picked) counts[list.indexOf(picked)] = (counts[list.indexOf(picked)] ?? 0) + 1;
    }
    assert.ok(Math.abs((counts[0] ?? 0) - 2048) < 300, `dh shares ${counts}`);
  });
});

describe('mh (Maglev)', () => {
  const backends = (count: number, weight: (i: number) => number = () => 1) =>
    Array.from({ length: count }, (_, i) => ({ id: `10.1.${i >> 8}.${i & 255}:8080`, weight: weight(i) }));

  it('slot shares are within 1% of the weights at M = 65537', () => {
    const list = backends(10, (i) => i + 1);
    const table = maglevTable(list, 65537);
    const counts = list.map(() => 0);
    for (const index of table) counts[index] = (counts[index] ?? 0) + 1;
    counts.forEach((count, i) => {
      const expected = (65537 * (i + 1)) / 55;
      assert.ok(Math.abs(count - expected) / expected < 0.01, `backend ${i}: ${count} slots vs ${expected}`);
    });
  });

  it('removing 1 of 100 backends remaps few slots beyond the removed one’s', () => {
    const all = backends(100);
    const removed = 37;
    const rest = all.filter((_, i) => i !== removed);
    const before = maglevTable(all, 65537);
    const after = maglevTable(rest, 65537);
    let moved = 0;
    for (let slot = 0; slot < 65537; slot++) {
      const owner = before[slot] as number;
      if (owner !== removed && rest[after[slot] as number]?.id !== all[owner]?.id) moved++;
    }
    // The Maglev paper: 0.66 % of entries for 1 of 1000; a modulo hash would move ~99 %.
    assert.ok(moved / 65537 < 0.015, `${((100 * moved) / 65537).toFixed(2)}% of slots moved`);
  });

  it('fills exactly as probing every permutation to its end would (digests of tables built that way)', () => {
    // The last free slots are found by arithmetic instead of probing (tables.ts, fillLastSlots);
    // these digests were taken from a build that probed for every slot.
    const digest = (table: Int32Array) =>
      table.reduce((hash, index) => (Math.imul(hash, 31) + index) | 0, 0) >>> 0;
    assert.equal(
      digest(
        maglevTable(
          backends(1000, (i) => 1 + ((i * 7) % 5)),
          65537,
        ),
      ),
      3421674096,
    );
    assert.equal(
      digest(
        maglevTable(
          backends(250, (i) => i % 4),
          251,
        ),
      ),
      1527812623,
    );
    assert.equal(digest(maglevTable(backends(3))), 4232959164);
  });

  it('the default table has 4093 slots, all filled', () => {
    const table = maglevTable(backends(3));
    assert.equal(table.length, 4093);
    assert.ok(table.every((index) => index >= 0 && index < 3));
  });

  it('a client IP keeps its endpoint; mh-port spreads one IP by port', () => {
    const list = evenDestinations(6);
    const plain = createScheduler('mh');
    const byPort = createScheduler('mh', { flags: ['mh-port'] });
    plain.update(list);
    byPort.update(list);
    const first = plain.pick(connection({ clientPort: 1 }));
    const reached = new Set<Destination | undefined>();
    for (let port = 1; port < 200; port++) {
      assert.equal(plain.pick(connection({ clientPort: port })), first);
      reached.add(byPort.pick(connection({ clientPort: port })));
    }
    assert.equal(reached.size, 6);
  });

  it('draining an endpoint (weight 0) keeps everyone else in place; mh-fallback re-homes its clients', () => {
    const list = evenDestinations(5);
    const plain = createScheduler('mh');
    const fallback = createScheduler('mh', { flags: ['mh-fallback'] });
    plain.update(list);
    fallback.update(list);
    const clients = Array.from({ length: 500 }, (_, i) =>
      connection({ clientIP: `172.18.${i >> 8}.${i & 255}` }),
    );
    const before = clients.map((client) => plain.pick(client));
    const drained = list[2];
    assert.ok(drained);
    drained.weight = 0;
    plain.update(list);
    fallback.update(list);
    let drainedClients = 0;
    clients.forEach((client, i) => {
      if (before[i] === drained) {
        drainedClients++;
        assert.equal(plain.pick(client), undefined);
        assert.ok(fallback.pick(client) && fallback.pick(client) !== drained);
      } else {
        assert.equal(plain.pick(client), before[i]);
        assert.equal(fallback.pick(client), before[i]);
      }
    });
    assert.ok(drainedClients > 50);
  });

  it('shares of picks follow weights', () => {
    const observed = shares('mh', destinations({ weight: 1 }, { weight: 3 }), [], 20000);
    assert.ok(Math.abs((observed[1] ?? 0) - 0.75) < 0.02, `share ${observed[1]}`);
  });
});
