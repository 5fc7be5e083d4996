import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createScheduler } from '../../src/schedulers/registry.js';
import type { Destination, Scheduler } from '../../src/schedulers/scheduler.js';
import { connection, destinations, letterOf } from './helpers.js';

const HOUR = 60 * 60 * 1000;

function setup(name: string, list: Destination[]) {
  let now = 0;
  const scheduler: Scheduler = createScheduler(name, { now: () => now });
  scheduler.update(list);
  const pickFor = (serviceIP: string) => letterOf(list, scheduler.pick(connection({ serviceIP })));
  return { scheduler, pickFor, advance: (ms: number) => (now += ms) };
}

describe('lblc', () => {
  it('keeps a service address on its endpoint until that one is overloaded against an idle one', () => {
    const list = destinations({ weight: 1 }, { weight: 1 });
    const [a, b] = list;
    assert.ok(a && b);
    const { pickFor } = setup('lblc', list);
    assert.equal(pickFor('10.96.0.10'), 'A');
    b.activeConns = 1;
    a.activeConns = 1;
    assert.equal(pickFor('10.96.0.10'), 'A', 'A at its weight: stays');
    a.activeConns = 2;
    assert.equal(pickFor('10.96.0.10'), 'A', 'A over its weight, but B is not below half of its own');
    b.activeConns = 0;
    assert.equal(pickFor('10.96.0.10'), 'B', 'A over, B idle: re-assigned');
    assert.equal(pickFor('10.96.0.10'), 'B', 'and remembered');
  });

  it('assigns each new address by weighted least connection', () => {
    const list = destinations({ weight: 1, active: 1 }, { weight: 4, active: 2 });
    const { pickFor } = setup('lblc', list);
    assert.equal(pickFor('10.96.0.11'), 'B');
  });

  it('forgets an address unused for 24 hours, at the next 30-minute collection', () => {
    const list = destinations({ weight: 1 }, { weight: 1 });
    const [a, b] = list;
    assert.ok(a && b);
    const { pickFor, advance } = setup('lblc', list);
    assert.equal(pickFor('10.96.0.10'), 'A');
    a.activeConns = 5;
    b.activeConns = 1;
    advance(23 * HOUR);
    assert.equal(pickFor('10.96.0.10'), 'A', 'still cached: A is over weight but B is not below half');
    advance(24 * HOUR + 31 * 60 * 1000);
    assert.equal(pickFor('10.96.0.10'), 'B', 'expired: re-assigned by wlc');
  });

  it('re-assigns when the cached endpoint leaves the service or drains', () => {
    const list = destinations({ weight: 1 }, { weight: 1 }, { weight: 1 });
    const [a, b, c] = list;
    assert.ok(a && b && c);
    const { scheduler, pickFor } = setup('lblc', list);
    assert.equal(pickFor('10.96.0.10'), 'A');
    scheduler.update([b, c]);
    assert.equal(pickFor('10.96.0.10'), 'B');
    b.weight = 0;
    scheduler.update([b, c]);
    assert.equal(pickFor('10.96.0.10'), 'C');
  });
});

describe('lblcr', () => {
  it('grows the set of a hot address, then serves it from its least-loaded member', () => {
    const list = destinations({ weight: 1 }, { weight: 1 }, { weight: 1 });
    const [a, b, c] = list;
    assert.ok(a && b && c);
    const { pickFor } = setup('lblcr', list);
    assert.equal(pickFor('10.96.0.10'), 'A');
    a.activeConns = 2;
    c.activeConns = 1;
    assert.equal(pickFor('10.96.0.10'), 'B', 'A overloaded while B is idle: B joins the set');
    b.activeConns = 1;
    assert.equal(pickFor('10.96.0.10'), 'B', 'the set {B, A}: B is the lighter');
    b.activeConns = 3;
    c.activeConns = 0;
    assert.equal(
      pickFor('10.96.0.10'),
      'C',
      'A (2) is lighter than B (3) but over its weight while C is idle: C joins',
    );
    c.activeConns = 2;
    assert.equal(
      pickFor('10.96.0.10'),
      'C',
      'the set {C, B, A} newest first: C and A tie at 2, C comes first',
    );
  });

  it('drops the most loaded member after the set has not changed for the expiration time', () => {
    const list = destinations({ weight: 1 }, { weight: 1 }, { weight: 1 });
    const [a, b, c] = list;
    assert.ok(a && b && c);
    const { pickFor, advance } = setup('lblcr', list);
    pickFor('10.96.0.10');
    a.activeConns = 2;
    c.activeConns = 1;
    assert.equal(pickFor('10.96.0.10'), 'B');
    a.activeConns = 3;
    b.activeConns = 1;
    c.activeConns = 1;
    advance(HOUR);
    assert.equal(pickFor('10.96.0.10'), 'B');
    advance(24 * HOUR);
    a.activeConns = 0;
    b.activeConns = 1;
    // Both A and B still in the set: the pick computes the min first (A, 0 active), then drops the
    // most loaded member (B) because the set has been unchanged for over 24 h.
    assert.equal(pickFor('10.96.0.10'), 'A');
    b.activeConns = 0;
    a.activeConns = 1;
    c.activeConns = 1;
    assert.equal(pickFor('10.96.0.10'), 'A', 'B was dropped, so the set is {A} though B is idle');
  });
});
