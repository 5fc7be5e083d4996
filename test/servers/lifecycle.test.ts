import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Lifecycle, watchConfigFile } from '../../src/servers/lifecycle.js';
import { captureStderr, eventually } from './fixtures.js';

function fakeProcess() {
  return new EventEmitter() as unknown as Pick<NodeJS.Process, 'on' | 'off'> & EventEmitter;
}

describe('stopping on signals', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} stops every part in order and leaves the rules`, async () => {
      const events: string[] = [];
      const target = fakeProcess();
      const lifecycle = new Lifecycle({
        parts: ['servers', 'sync runner', 'sources'].map((name) => ({
          name,
          stop: async () => {
            events.push(name);
          },
        })),
        process: target,
      });
      const { result } = await captureStderr(async () => {
        target.emit(signal, signal);
        target.emit(signal, signal);
        return lifecycle.stopped;
      });
      assert.deepEqual(events, ['sources', 'sync runner', 'servers'], 'each part once, last started first');
      assert.deepEqual(result, { kind: 'signal', signal });
      assert.equal(target.listenerCount('SIGTERM'), 0, 'handlers removed');
    });
  }

  it('removes the rules after stopping when cleanup was asked for, even if a part failed to stop', async () => {
    const events: string[] = [];
    const target = fakeProcess();
    const lifecycle = new Lifecycle({
      parts: [
        { name: 'servers', stop: async () => void events.push('servers') },
        {
          name: 'broken',
          stop: async () => {
            throw new Error('boom');
          },
        },
      ],
      removeRules: async () => void events.push('rules removed'),
      process: target,
    });
    const { lines } = await captureStderr(async () => {
      target.emit('SIGTERM', 'SIGTERM');
      await lifecycle.stopped;
    });
    assert.deepEqual(events, ['servers', 'rules removed']);
    assert.ok(lines.some((line) => line.startsWith('E') && line.includes('part="broken"')));
  });
});

describe('parts that start late', () => {
  it('joins the stop order, and a part that starts after the stop is stopped at once', async () => {
    const events: string[] = [];
    const target = fakeProcess();
    const lifecycle = new Lifecycle({ process: target });
    lifecycle.join({ name: 'servers', stop: async () => void events.push('servers') });
    await captureStderr(async () => {
      target.emit('SIGTERM', 'SIGTERM');
      lifecycle.join({ name: 'late source', stop: async () => void events.push('late source') });
      await lifecycle.stopped;
    });
    assert.deepEqual(events.sort(), ['late source', 'servers']);
  });
});

describe('watching the config file', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kp-config-watch-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('reports a content change once, and ignores rewrites with the same content', async () => {
    const path = join(dir, 'config.conf');
    await writeFile(path, 'mode: ""\n');
    let changes = 0;
    const watcher = await watchConfigFile({ path, intervalMs: 10, onChange: () => changes++ });
    await writeFile(path, 'mode: ""\n');
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.equal(changes, 0);
    await captureStderr(async () => {
      await writeFile(path, 'mode: "ipvs"\n');
      await eventually(() => changes > 0);
    });
    await writeFile(path, 'mode: "nftables"\n');
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.equal(changes, 1);
    watcher.stop();
  });

  it('sees a ConfigMap-style update that swaps the file for a new one', async () => {
    const path = join(dir, 'swapped.conf');
    await writeFile(path, 'mode: ""\n');
    let changed = false;
    const watcher = await watchConfigFile({ path, intervalMs: 10, onChange: () => (changed = true) });
    await writeFile(`${path}.new`, 'mode: "ipvs"\n');
    await captureStderr(async () => {
      await rename(`${path}.new`, path);
      await eventually(() => changed);
    });
    watcher.stop();
  });
});
