import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { test } from 'node:test';
import { defaultThreads } from '../../src/cli/bench-flags.js';

test('kproxy bench uses two threads for a new connection per request, one with -k', () => {
  assert.equal(defaultThreads(true), 1);
  assert.equal(defaultThreads(false), Math.min(2, availableParallelism()));
});
