import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KproxyError } from '../../src/errors.js';
import { createScheduler, knownSchedulerNames, schedulerDescriptor } from '../../src/schedulers/registry.js';
import { connection, evenDestinations } from './helpers.js';

const ipvsNames = [
  'rr',
  'wrr',
  'lc',
  'wlc',
  'sed',
  'nq',
  'sh',
  'dh',
  'mh',
  'lblc',
  'lblcr',
  'fo',
  'ovf',
  'twos',
];

function flagError(name: string, flags: string[]): KproxyError {
  try {
    createScheduler(name, { flags });
  } catch (error) {
    assert.ok(error instanceof KproxyError);
    return error;
  }
  assert.fail(`${name} accepted ${flags}`);
}

describe('the scheduler registry', () => {
  it('knows every IPVS scheduler and random', () => {
    assert.deepEqual([...knownSchedulerNames()].sort(), [...ipvsNames, 'random'].sort());
  });

  for (const name of knownSchedulerNames()) {
    it(`${name} picks an endpoint from three and none from an empty set`, () => {
      const scheduler = createScheduler(name);
      assert.equal(scheduler.name, name);
      assert.equal(scheduler.pick(connection()), undefined);
      const list = evenDestinations(3);
      scheduler.update(list);
      const picked = scheduler.pick(connection());
      assert.ok(picked && list.includes(picked));
    });
  }

  it('a flag of another scheduler is an error naming the owner and the valid flags', () => {
    const error = flagError('sh', ['mh-port']);
    assert.equal(error.code, 'KPROXY_E_SCHEDULER_FLAG');
    assert.match(error.message, /"mh-port" belongs to the mh scheduler/);
    assert.match(error.hint ?? '', /sh-fallback, sh-port/);
  });

  it('an unknown flag, or any flag on a scheduler without flags, is an error', () => {
    assert.match(flagError('mh', ['mh-sticky']).hint ?? '', /mh-fallback, mh-port/);
    assert.match(flagError('rr', ['sh-port']).hint ?? '', /rr takes no flags/);
  });

  it('the Maglev table size must be one of the kernel primes', () => {
    assert.throws(
      () => createScheduler('mh', { maglevTableSize: 4096 }),
      /4096 is not one the kernel offers/,
    );
    const scheduler = createScheduler('mh', { maglevTableSize: 251 });
    scheduler.update(evenDestinations(2));
    assert.ok(scheduler.pick(connection()));
  });

  it('kube-proxy sets mh-port for mh', () => {
    assert.deepEqual(schedulerDescriptor('mh').kubeProxyFlags, ['mh-port']);
  });
});
