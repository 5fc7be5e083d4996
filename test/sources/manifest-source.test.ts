import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseManifestText } from '../../src/sources/manifest-file.js';
import { ManifestSource } from '../../src/sources/manifest-source.js';
import { eventually, RecordingHandler } from './api-helpers.js';

const SERVICE_A = `apiVersion: v1
kind: Service
metadata: { name: a, namespace: ns }
spec: { clusterIP: 10.96.0.1, ports: [{ name: http, port: 80 }] }
`;
const SERVICE_B = `apiVersion: v1
kind: Service
metadata: { name: b, namespace: ns }
spec: { clusterIP: 10.96.0.2, ports: [{ name: http, port: 80 }] }
`;
const BAD_PORT_B = SERVICE_B.replace('port: 80', 'port: 99999');

describe('parseManifestText', () => {
  it('reads multi-document YAML and List kinds, ignoring other kinds', () => {
    const text = `${SERVICE_A}---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
---
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: Service
    metadata: { name: c, namespace: ns }
    spec: { clusterIP: 10.96.0.3, ports: [{ port: 80 }] }
  - apiVersion: discovery.k8s.io/v1
    kind: EndpointSlice
    metadata: { name: c-1, namespace: ns, labels: { kubernetes.io/service-name: c } }
    addressType: IPv4
    endpoints: [{ addresses: [10.0.0.1] }]
`;
    const parsed = parseManifestText(text, 'm.yaml');
    assert.deepEqual(parsed.errors, []);
    assert.deepEqual(
      parsed.objects.map((o) => `${o.kind} ${o.key} line ${o.line}`),
      ['Service ns/a line 1', 'Service ns/c line 13', 'EndpointSlice ns/c-1 line 17'],
    );
  });

  it('reports each broken document with file:line and field, and keeps the good ones', () => {
    const text = `${SERVICE_A}---\n${BAD_PORT_B}---\nkind: Service\nmetadata: {name: [unclosed\n---\n${SERVICE_B.replace('name: b', 'name: d')}`;
    const parsed = parseManifestText(text, 'mixed.yaml');
    assert.deepEqual(
      parsed.objects.map((o) => o.key),
      ['ns/a', 'ns/d'],
    );
    assert.equal(parsed.errors.length, 2);
    assert.match(
      parsed.errors[0]?.message ?? '',
      /^mixed\.yaml:6: Service ns\/b: spec\.ports\[0\]\.port: Invalid value: 99999/,
    );
    assert.match(parsed.errors[1]?.message ?? '', /^mixed\.yaml:1[0-3]: /);
    assert.ok(parsed.errors.every((e) => e.code === 'KPROXY_E_MANIFEST' && e.hint));
  });

  it('rejects a document that is not a mapping, and duplicate keys', () => {
    assert.match(
      parseManifestText('- just\n- a list\n', 'l.yaml').errors[0]?.message ?? '',
      /l\.yaml:1: not a Kubernetes object/,
    );
    const duplicate = 'kind: Service\nkind: Service\nmetadata: {name: a}\n';
    assert.match(
      parseManifestText(duplicate, 'd.yaml').errors[0]?.message ?? '',
      /d\.yaml:2: YAML: duplicated mapping key/,
    );
  });
});

describe('ManifestSource', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-manifests-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('loads a directory, then follows added, changed, broken and removed files', async () => {
    writeFileSync(join(dir, 'a.yaml'), SERVICE_A);
    writeFileSync(join(dir, 'notes.txt'), 'not a manifest');
    const handler = new RecordingHandler();
    const source = new ManifestSource({ paths: [dir], watch: true, debounceMs: 20 });
    await source.start(handler);
    try {
      assert.equal(handler.syncedCount, 1);
      assert.deepEqual([...handler.services.keys()], ['ns/a']);

      writeFileSync(join(dir, 'b.yaml'), SERVICE_B);
      await eventually('the added file', () => handler.services.has('ns/b'));

      writeFileSync(join(dir, 'b.yaml'), SERVICE_B.replace('10.96.0.2', '10.96.0.22'));
      await eventually(
        'the changed file',
        () => handler.services.get('ns/b')?.spec.clusterIP === '10.96.0.22',
      );

      writeFileSync(join(dir, 'b.yaml'), BAD_PORT_B);
      await eventually('the error report', () => handler.problems.length > 0);
      assert.match(handler.problems[0]?.message ?? '', /b\.yaml:1: Service ns\/b: spec\.ports\[0\]\.port/);
      assert.equal(handler.services.get('ns/b')?.spec.clusterIP, '10.96.0.22', 'the last good version stays');

      unlinkSync(join(dir, 'b.yaml'));
      await eventually('the removal', () => !handler.services.has('ns/b'));
      assert.ok(handler.services.has('ns/a'));
    } finally {
      await source.stop();
    }
  });

  it('refuses an object defined in two files, keeping the first until it goes away', async () => {
    const other = mkdtempSync(join(tmpdir(), 'kproxy-dup-'));
    try {
      writeFileSync(join(other, '1.yaml'), SERVICE_A);
      writeFileSync(join(other, '2.yaml'), SERVICE_A.replace('10.96.0.1', '10.96.0.9'));
      const handler = new RecordingHandler();
      const source = new ManifestSource({ paths: [other] });
      await source.start(handler);
      assert.equal(handler.services.get('ns/a')?.spec.clusterIP, '10.96.0.1');
      assert.match(
        handler.problems[0]?.message ?? '',
        /2\.yaml:1: Service ns\/a is already defined in .*1\.yaml/,
      );
      unlinkSync(join(other, '1.yaml'));
      source.rescan();
      assert.equal(handler.services.get('ns/a')?.spec.clusterIP, '10.96.0.9', 'the other copy takes over');
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('fails clearly for a path that does not exist', async () => {
    const source = new ManifestSource({ paths: [join(dir, 'missing')] });
    await assert.rejects(source.start(new RecordingHandler()), /missing: cannot read manifests/);
  });
});
