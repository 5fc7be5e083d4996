import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KubeApiSource } from '../../src/sources/kube-api-source.js';
import { FakeApiServer } from '../fakes/fake-api-server.js';
import { eventually, RecordingHandler, service, slice } from './api-helpers.js';

describe('KubeApiSource against a fake API server', () => {
  const server = new FakeApiServer();
  let source: KubeApiSource;
  const handler = new RecordingHandler();

  before(async () => {
    await server.start();
    server.upsert('services', service('web', '10.96.0.10'));
    server.upsert('endpointslices', slice('web', ['10.0.0.1', '10.0.0.2']));
    server.upsert('nodes', {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'node-a', labels: { 'topology.kubernetes.io/zone': 'z1' } },
    });
    server.upsert('nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-b' } });
    source = new KubeApiSource({
      master: server.url,
      nodeName: 'node-a',
      initialBackoffMs: 20,
      maxBackoffMs: 100,
    });
    await source.start(handler);
  });

  after(async () => {
    await source.stop();
    await server.stop();
  });

  it('reports synced once, after the initial lists, with every listed object delivered', () => {
    assert.equal(handler.syncedCount, 1);
    assert.deepEqual([...handler.services.keys()], ['default/web']);
    assert.deepEqual([...handler.slices.keys()], ['default/web-abc']);
    assert.deepEqual([...handler.nodes.keys()], ['node-a']);
  });

  it('delivers watch events: a change and a deletion', async () => {
    server.upsert('endpointslices', slice('web', ['10.0.0.1', '10.0.0.2', '10.0.0.3']));
    await eventually(
      'the third endpoint',
      () => handler.slices.get('default/web-abc')?.endpoints?.length === 3,
    );
    server.upsert('services', service('api', '10.96.0.11'));
    await eventually('the new Service', () => handler.services.has('default/api'));
    server.remove('services', 'default', 'api');
    await eventually('the deletion', () => !handler.services.has('default/api'));
  });

  it('resumes after a dropped watch without relisting, and sees what changed meanwhile', async () => {
    const listsBefore = server.requests.list.services;
    server.dropWatches();
    server.upsert('services', service('late', '10.96.0.12'));
    await eventually('the change made while the watch was down', () => handler.services.has('default/late'));
    assert.equal(server.requests.list.services, listsBefore);
  });

  it('relists after 410 Gone, dropping objects deleted while it could not watch', async () => {
    const listsBefore = server.requests.list.services;
    server.dropWatches();
    server.remove('services', 'default', 'late');
    server.compact();
    await eventually('the relist', () => server.requests.list.services > listsBefore);
    await eventually('the deletion seen through the relist', () => !handler.services.has('default/late'));
    assert.ok(handler.services.has('default/web'));
  });

  it('backs off and recovers when the server restarts and its first lists fail', async () => {
    await server.restart({ forgetHistory: true });
    server.failLists(2);
    server.upsert('services', service('after-restart', '10.96.0.13'));
    await eventually('the object created after the restart', () =>
      handler.services.has('default/after-restart'),
    );
    assert.ok(handler.problems.some((problem) => problem.code === 'KPROXY_E_API'));
    assert.equal(handler.syncedCount, 1);
  });

  it('rejects an invalid object with its name and field, and keeps the last good version', async () => {
    const bad = service('web', '10.96.0.10');
    (bad.spec as { ports: { name: string }[] }).ports = [{ name: 'Bad Name' }];
    server.upsert('services', bad);
    await eventually('the rejection', () => handler.problems.some((p) => p.code === 'KPROXY_E_API_OBJECT'));
    const problem = handler.problems.find((p) => p.code === 'KPROXY_E_API_OBJECT');
    assert.match(problem?.message ?? '', /default\/web.*spec\.ports\[0\]\.name/);
    assert.equal(handler.services.get('default/web')?.spec.ports?.[0]?.name, 'http');
  });
});

describe('KubeApiSource start-up', () => {
  it('reports synced only once both initial lists have succeeded', async () => {
    const server = new FakeApiServer();
    await server.start();
    server.upsert('services', service('web', '10.96.0.10'));
    server.upsert('endpointslices', slice('web', ['10.0.0.1']));
    server.failLists(1);
    const handler = new RecordingHandler();
    const source = new KubeApiSource({ master: server.url, initialBackoffMs: 50, maxBackoffMs: 100 });
    try {
      await source.start(handler);
      assert.equal(handler.syncedCount, 0, 'one list failed: not synced yet');
      assert.match(handler.problems[0]?.message ?? '', /list\/watch failed: .*retrying in 50ms/);
      await eventually('the retried list', () => handler.syncedCount === 1);
      assert.ok(handler.services.has('default/web') && handler.slices.has('default/web-abc'));
    } finally {
      await source.stop();
      await server.stop();
    }
  });

  it('connects through a kubeconfig file, and calls a missing one bad usage', async () => {
    const server = new FakeApiServer();
    await server.start();
    server.upsert('services', service('web', '10.96.0.10'));
    const dir = mkdtempSync(join(tmpdir(), 'kproxy-kubeconfig-'));
    const kubeconfig = join(dir, 'config');
    writeFileSync(
      kubeconfig,
      `apiVersion: v1
kind: Config
clusters: [{ name: fake, cluster: { server: "${server.url}", insecure-skip-tls-verify: true } }]
users: [{ name: me, user: { token: abc } }]
contexts: [{ name: fake, context: { cluster: fake, user: me } }]
current-context: fake
`,
    );
    const handler = new RecordingHandler();
    const source = new KubeApiSource({ kubeconfig });
    try {
      await source.start(handler);
      assert.equal(handler.syncedCount, 1);
      assert.ok(handler.services.has('default/web'));
    } finally {
      await source.stop();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    assert.throws(
      () => new KubeApiSource({ kubeconfig: join(dir, 'missing') }),
      (error: Error & { code?: string }) => error.code === 'KPROXY_E_USAGE' && /missing/.test(error.message),
    );
  });

  it('refuses a --master that is not a URL, as bad usage', () => {
    assert.throws(
      () => new KubeApiSource({ master: 'not a url' }),
      (error: Error & { code?: string }) => error.code === 'KPROXY_E_USAGE',
    );
  });
});
