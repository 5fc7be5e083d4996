import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SyncRunner } from '../../src/control/sync-runner.js';
import { FakeClock } from '../fakes/fake-clock.js';

function runnerWith(options: { min?: number; max?: number; retry?: number; outcomes?: boolean[] } = {}) {
  const clock = new FakeClock();
  const runs: number[] = [];
  const outcomes = [...(options.outcomes ?? [])];
  const runner = new SyncRunner({
    sync: async () => {
      runs.push(clock.now());
      return outcomes.shift() ?? true;
    },
    minIntervalMs: options.min ?? 1000,
    maxIntervalMs: options.max ?? 30_000,
    retryIntervalMs: options.retry ?? 5000,
    clock,
  });
  return { clock, runs, runner };
}

describe('SyncRunner', () => {
  it('runs the first request at once', async () => {
    const { clock, runs, runner } = runnerWith();
    runner.start();
    runner.run();
    await clock.advance(0);
    assert.deepEqual(runs, [0]);
  });

  it('coalesces requests inside minInterval into one sync at its end', async () => {
    const { clock, runs, runner } = runnerWith({ min: 1000 });
    runner.start();
    runner.run();
    await clock.advance(100);
    for (let i = 0; i < 50; i++) runner.run();
    await clock.advance(2000);
    assert.deepEqual(runs, [0, 1000]);
  });

  it('syncs every maxInterval without requests', async () => {
    const { clock, runs, runner } = runnerWith({ max: 30_000 });
    runner.start();
    await clock.advance(95_000);
    assert.deepEqual(runs, [30_000, 60_000, 90_000]);
  });

  it('retries after retryInterval when a sync fails, then returns to the period', async () => {
    const { clock, runs, runner } = runnerWith({ retry: 5000, outcomes: [false, false, true] });
    runner.start();
    runner.run();
    await clock.advance(45_000);
    assert.deepEqual(runs, [0, 5000, 10_000, 40_000]);
  });

  it('treats a thrown error as a failure and retries', async () => {
    const clock = new FakeClock();
    const runs: number[] = [];
    const errors: unknown[] = [];
    const runner = new SyncRunner({
      sync: async () => {
        runs.push(clock.now());
        if (runs.length === 1) throw new Error('boom');
        return true;
      },
      minIntervalMs: 1000,
      maxIntervalMs: 60_000,
      retryIntervalMs: 2000,
      clock,
      onError: (error) => errors.push(error),
    });
    runner.start();
    runner.run();
    await clock.advance(3000);
    assert.deepEqual(runs, [0, 2000]);
    assert.equal(errors.length, 1);
  });

  it('never overlaps syncs: a request during a slow sync runs after it', async () => {
    const clock = new FakeClock();
    let active = 0;
    let maxActive = 0;
    let release: (() => void) | undefined;
    const runs: number[] = [];
    const runner = new SyncRunner({
      sync: async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        runs.push(clock.now());
        if (runs.length === 1) await new Promise<void>((resolve) => (release = resolve));
        active--;
        return true;
      },
      minIntervalMs: 1000,
      maxIntervalMs: 60_000,
      retryIntervalMs: 1000,
      clock,
    });
    runner.start();
    runner.run();
    await clock.advance(10);
    runner.run();
    await clock.advance(5000);
    assert.deepEqual(runs, [0]);
    release?.();
    await clock.advance(10);
    assert.deepEqual(runs, [0, 5010]);
    assert.equal(maxActive, 1);
  });

  it('stops scheduling after stop()', async () => {
    const { clock, runs, runner } = runnerWith({ max: 1000 });
    runner.start();
    await runner.stop();
    runner.run();
    await clock.advance(10_000);
    assert.deepEqual(runs, []);
  });
});
