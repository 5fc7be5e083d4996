import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChangeTracker, objectFingerprint } from '../../src/control/change-tracker.js';

interface Thing {
  metadata: { name: string; resourceVersion?: string };
  value: number;
}

const thing = (value: number, resourceVersion = '1'): Thing => ({
  metadata: { name: 't', resourceVersion },
  value,
});

describe('ChangeTracker', () => {
  it('pairs the version last drained with the current one', () => {
    const tracker = new ChangeTracker<Thing>(objectFingerprint);
    tracker.update('ns/t', thing(1));
    assert.deepEqual(tracker.drain(), [{ key: 'ns/t', previous: undefined, current: thing(1) }]);
    tracker.update('ns/t', thing(2, '2'));
    tracker.update('ns/t', thing(3, '3'));
    assert.deepEqual(tracker.drain(), [{ key: 'ns/t', previous: thing(1), current: thing(3, '3') }]);
    tracker.update('ns/t', undefined);
    assert.deepEqual(tracker.drain(), [{ key: 'ns/t', previous: thing(3, '3'), current: undefined }]);
    assert.equal(tracker.size, 0);
  });

  it('drops updates that change nothing but the resourceVersion', () => {
    const tracker = new ChangeTracker<Thing>(objectFingerprint);
    tracker.update('ns/t', thing(1));
    tracker.drain();
    assert.equal(tracker.update('ns/t', thing(1, '7')), false);
    assert.equal(tracker.hasPendingChanges(), false);
  });

  it('forgets a change that is undone, and an object added then deleted, before a drain', () => {
    const tracker = new ChangeTracker<Thing>(objectFingerprint);
    tracker.update('ns/t', thing(1));
    tracker.drain();
    tracker.update('ns/t', thing(2));
    tracker.update('ns/t', thing(1, '9'));
    assert.equal(tracker.hasPendingChanges(), false);
    tracker.update('ns/new', thing(5));
    tracker.update('ns/new', undefined);
    assert.deepEqual(tracker.drain(), []);
  });

  it('ignores the deletion of an object it never had', () => {
    const tracker = new ChangeTracker<Thing>(objectFingerprint);
    assert.equal(tracker.update('ns/ghost', undefined), false);
    assert.equal(tracker.hasPendingChanges(), false);
  });
});
