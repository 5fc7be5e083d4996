import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createScheduler } from '../../src/schedulers/registry.js';
import { wrrCycle } from '../../src/schedulers/tables.js';
import { type DestinationSpec, destinations, letterOf, pickLetters } from './helpers.js';

/** Picks `count` times from fresh destinations; `open` opens an active connection per pick. */
function sequence(name: string, specs: DestinationSpec[], count: number, open = false): string {
  const list = destinations(...specs);
  const scheduler = createScheduler(name);
  scheduler.update(list);
  return pickLetters(scheduler, list, count, { open });
}

describe('deterministic pick sequences, as the kernel makes them', () => {
  const cases: {
    name: string;
    title: string;
    specs: DestinationSpec[];
    count: number;
    open?: boolean;
    expected: string;
  }[] = [
    { name: 'rr', title: 'rr cycles', specs: [{}, {}, {}], count: 7, expected: 'ABCABCA' },
    { name: 'rr', title: 'rr skips weight 0', specs: [{}, { weight: 0 }, {}], count: 4, expected: 'ACAC' },
    {
      name: 'rr',
      title: 'rr skips overloaded',
      specs: [{ overloaded: true }, {}, {}],
      count: 4,
      expected: 'BCBC',
    },
    { name: 'rr', title: 'rr with nothing available', specs: [{ weight: 0 }], count: 2, expected: '--' },
    {
      name: 'wrr',
      title: 'wrr 3:2:1',
      specs: [{ weight: 3 }, { weight: 2 }, { weight: 1 }],
      count: 12,
      expected: 'AABABCAABABC',
    },
    {
      name: 'wrr',
      title: 'wrr 4:2 steps by the gcd',
      specs: [{ weight: 4 }, { weight: 2 }],
      count: 6,
      expected: 'AABAAB',
    },
    {
      name: 'wrr',
      title: 'wrr equal weights is rr',
      specs: [{ weight: 5 }, { weight: 5 }, { weight: 5 }],
      count: 4,
      expected: 'ABCA',
    },
    {
      name: 'wrr',
      title: 'wrr skips weight 0',
      specs: [{ weight: 2 }, { weight: 0 }, { weight: 1 }],
      count: 6,
      expected: 'AACAAC',
    },
    {
      name: 'wrr',
      title: 'wrr skips overloaded',
      specs: [{ weight: 3, overloaded: true }, { weight: 2 }, { weight: 1 }],
      count: 6,
      expected: 'BBCBBC',
    },
    {
      name: 'wrr',
      title: 'wrr all weight 0',
      specs: [{ weight: 0 }, { weight: 0 }],
      count: 2,
      expected: '--',
    },
    {
      name: 'lc',
      title: 'lc fills the emptiest first',
      specs: [{ active: 2 }, {}, { active: 1 }],
      count: 5,
      open: true,
      expected: 'BBCAB',
    },
    {
      name: 'lc',
      title: 'lc counts active as 256 inactive',
      specs: [{ active: 1 }, { inactive: 255 }, { inactive: 256 }],
      count: 1,
      expected: 'B',
    },
    {
      name: 'lc',
      title: 'lc ignores weights but 0',
      specs: [{ weight: 9, active: 1 }, { weight: 1 }, { weight: 0 }],
      count: 1,
      expected: 'B',
    },
    {
      name: 'wlc',
      title: 'wlc: overhead per weight',
      specs: [
        { weight: 1, active: 1 },
        { weight: 3, active: 2 },
      ],
      count: 1,
      expected: 'B',
    },
    {
      name: 'wlc',
      title: 'wlc 1:3 idle',
      specs: [{ weight: 1 }, { weight: 3 }],
      count: 8,
      open: true,
      expected: 'ABBBABBB',
    },
    {
      name: 'wlc',
      title: 'wlc tie → first',
      specs: [
        { weight: 2, active: 2 },
        { weight: 1, active: 1 },
      ],
      count: 1,
      expected: 'A',
    },
    {
      name: 'sed',
      title: 'sed (active+1)/weight',
      specs: [{ weight: 1 }, { weight: 3 }],
      count: 8,
      open: true,
      expected: 'BBABBBAB',
    },
    {
      name: 'sed',
      title: 'sed ignores inactive',
      specs: [{ inactive: 1000 }, { active: 1 }],
      count: 1,
      expected: 'A',
    },
    {
      name: 'nq',
      title: 'nq: an idle one first',
      specs: [{ weight: 3, active: 1 }, { weight: 1 }],
      count: 1,
      expected: 'B',
    },
    {
      name: 'nq',
      title: 'nq without idle is sed',
      specs: [
        { weight: 1, active: 1 },
        { weight: 3, active: 2 },
      ],
      count: 1,
      expected: 'B',
    },
    {
      name: 'nq',
      title: 'nq 1:3',
      specs: [{ weight: 1 }, { weight: 3 }],
      count: 6,
      open: true,
      expected: 'ABBBBB',
    },
    {
      name: 'fo',
      title: 'fo: highest weight',
      specs: [{ weight: 5 }, { weight: 10 }, { weight: 10 }],
      count: 3,
      open: true,
      expected: 'BBB',
    },
    {
      name: 'fo',
      title: 'fo fails over',
      specs: [{ weight: 5 }, { weight: 10, overloaded: true }, { weight: 0 }],
      count: 2,
      expected: 'AA',
    },
    {
      name: 'ovf',
      title: 'ovf overflows past weight',
      specs: [{ weight: 1 }, { weight: 2 }],
      count: 6,
      open: true,
      expected: 'BBBAA-',
    },
  ];
  for (const c of cases) {
    it(`${c.title}: ${c.expected}`, () => {
      assert.equal(sequence(c.name, c.specs, c.count, c.open), c.expected);
    });
  }

  it('wrrCycle gives the data planes the same cycle', () => {
    assert.deepEqual(wrrCycle([3, 2, 1]), [0, 0, 1, 0, 1, 2]);
    assert.deepEqual(wrrCycle([4, 2]), [0, 0, 1]);
    assert.deepEqual(wrrCycle([0, 1]), [1]);
  });

  it('rr goes on after its last pick when the backend set changes', () => {
    const list = destinations({}, {}, {}, {});
    const scheduler = createScheduler('rr');
    scheduler.update(list);
    assert.equal(pickLetters(scheduler, list, 2), 'AB');
    scheduler.update([list[0], list[2], list[3]].filter((d) => d !== undefined));
    assert.equal(pickLetters(scheduler, list, 3), 'CDA', 'B removed: on from A, the one before it');
  });

  it('wrr restarts from the list head on an update, keeping its current weight (ip_vs_wrr_dest_changed)', () => {
    const list = destinations({ weight: 3 }, { weight: 2 }, { weight: 1 });
    const scheduler = createScheduler('wrr');
    scheduler.update(list);
    assert.equal(pickLetters(scheduler, list, 2), 'AA', 'cw is now 2');
    scheduler.update(list);
    assert.equal(pickLetters(scheduler, list, 5), 'ABABC', 'from the head at cw 2, not B A B C');
  });

  it('lc reacts to connections closing', () => {
    const list = destinations({ active: 3 }, { active: 1 });
    const scheduler = createScheduler('lc');
    scheduler.update(list);
    assert.equal(
      letterOf(
        list,
        scheduler.pick({ clientIP: '1.1.1.1', clientPort: 1, serviceIP: '2.2.2.2', servicePort: 80 }),
      ),
      'B',
    );
    const a = list[0];
    assert.ok(a);
    a.activeConns = 0;
    assert.equal(
      letterOf(
        list,
        scheduler.pick({ clientIP: '1.1.1.1', clientPort: 1, serviceIP: '2.2.2.2', servicePort: 80 }),
      ),
      'A',
    );
  });

  it('twos keeps the lighter of two weighted draws', () => {
    // randomU32 % (Σw + 1) with Σw = 4: 0.1 → 1 (A), 0.9 → 4 (C: 4 − 1 − 1 = 2, then − 2 = 0).
    const draws = [0.1, 0.9];
    let call = 0;
    const list = destinations({ weight: 1, active: 2 }, { weight: 1 }, { weight: 2, active: 1 });
    const scheduler = createScheduler('twos', { random: () => draws[call++ % draws.length] ?? 0 });
    scheduler.update(list);
    assert.equal(pickLetters(scheduler, list, 1), 'C');
  });
});
