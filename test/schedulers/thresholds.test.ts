import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connectionClosed, connectionOpened } from '../../src/schedulers/connection-counters.js';
import { createScheduler } from '../../src/schedulers/registry.js';
import type { Destination } from '../../src/schedulers/scheduler.js';
import { destinations, pickLetters } from './helpers.js';

/** Opens `opens` connections, then closes `closes`, recording the overload flag after each step. */
function overloadTrace(destination: Destination, opens: number, closes: number): string {
  let trace = '';
  for (let i = 0; i < opens; i++) {
    connectionOpened(destination);
    trace += destination.overloaded ? 'O' : '.';
  }
  trace += '|';
  for (let i = 0; i < closes; i++) {
    connectionClosed(destination, true);
    trace += destination.overloaded ? 'O' : '.';
  }
  return trace;
}

describe('connection thresholds, as ip_vs_bind_dest / ip_vs_unbind_dest apply them', () => {
  it('upper 3 without lower: overloaded at 3, recovers below ¾ of 3', () => {
    const [d] = destinations({});
    assert.ok(d);
    d.upperThreshold = 3;
    assert.equal(overloadTrace(d, 4, 4), '..OO|O...');
  });

  it('upper 4, lower 2: overloaded at 4, recovers below 2', () => {
    const [d] = destinations({});
    assert.ok(d);
    d.upperThreshold = 4;
    d.lowerThreshold = 2;
    assert.equal(overloadTrace(d, 4, 4), '...O|OO..');
  });

  it('no thresholds: a set overload flag clears at the next close', () => {
    const [d] = destinations({ active: 2, overloaded: true });
    assert.ok(d);
    assert.equal(overloadTrace(d, 0, 1), '|.');
  });

  it('rr skips a destination while it is over its upper threshold', () => {
    const list = destinations({}, {});
    const [a] = list;
    assert.ok(a);
    a.upperThreshold = 1;
    const scheduler = createScheduler('rr');
    scheduler.update(list);
    const picked = scheduler.pick({
      clientIP: '1.1.1.1',
      clientPort: 1,
      serviceIP: '2.2.2.2',
      servicePort: 80,
    });
    assert.equal(picked, a);
    connectionOpened(a);
    assert.equal(pickLetters(scheduler, list, 3), 'BBB');
    connectionClosed(a, true);
    assert.equal(pickLetters(scheduler, list, 2), 'AB');
  });
});
