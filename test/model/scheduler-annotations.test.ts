import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeService } from '../../src/model/decode-service.js';
import type { ServiceObject } from '../../src/model/k8s-objects.js';
import { parseSchedulerFlags } from '../../src/model/scheduler-annotations.js';
import { servicePortsOf } from '../../src/model/service-ports.js';
import { parseManifestText } from '../../src/sources/manifest-file.js';

const FLAGS = 'kproxy.io/ipvs-scheduler-flags';

function service(annotations: Record<string, string>): unknown {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'shop', annotations },
    spec: { clusterIP: '10.96.0.10', ports: [{ port: 80 }] },
  };
}

/** The Service's ports' flags, or the decode errors as text. */
function flagsOf(annotations: Record<string, string>): readonly string[] | undefined | string {
  const result = decodeService(service(annotations));
  if (!result.ok) return result.errors.map((e) => `${e.path}: ${e.detail}`).join('; ');
  return servicePortsOf(result.object as ServiceObject)[0]?.schedulerFlags;
}

describe('the kproxy.io/ipvs-scheduler-flags annotation', () => {
  const good: [string, Record<string, string>, readonly string[] | undefined][] = [
    [
      'no annotation: the scheduler decides later (kube-proxy flags)',
      { 'kproxy.io/ipvs-scheduler': 'mh' },
      undefined,
    ],
    ['sh-port for sh', { 'kproxy.io/ipvs-scheduler': 'sh', [FLAGS]: 'sh-port' }, ['sh-port']],
    [
      'both sh flags, blanks and repeats ignored',
      { 'kproxy.io/ipvs-scheduler': 'sh', [FLAGS]: ' sh-port , sh-fallback,sh-port,' },
      ['sh-port', 'sh-fallback'],
    ],
    ['empty: no flags at all (mh without mh-port)', { 'kproxy.io/ipvs-scheduler': 'mh', [FLAGS]: '' }, []],
    ['mh-fallback for mh', { 'kproxy.io/ipvs-scheduler': 'mh', [FLAGS]: 'mh-fallback' }, ['mh-fallback']],
  ];
  for (const [what, annotations, expected] of good) {
    it(`accepts ${what}`, () => assert.deepEqual(flagsOf(annotations), expected));
  }

  const bad: [string, Record<string, string>, RegExp][] = [
    [
      "another scheduler's flag",
      { 'kproxy.io/ipvs-scheduler': 'sh', [FLAGS]: 'mh-port' },
      /belongs to the mh scheduler, not sh; sh takes: sh-fallback, sh-port/,
    ],
    [
      'a flag for a scheduler without flags',
      { 'kproxy.io/ipvs-scheduler': 'rr', [FLAGS]: 'sh-port' },
      /rr takes no flags \(flags exist for: sh-fallback \(sh\), sh-port \(sh\), mh-fallback \(mh\), mh-port \(mh\)\)/,
    ],
    [
      'an unknown flag',
      { 'kproxy.io/ipvs-scheduler': 'mh', [FLAGS]: 'mh-port,fast' },
      /"fast" is not a scheduler flag/,
    ],
    [
      'flags without a scheduler annotation',
      { [FLAGS]: 'sh-port' },
      /need the kproxy.io\/ipvs-scheduler annotation/,
    ],
    [
      'flags of an unknown scheduler',
      { 'kproxy.io/ipvs-scheduler': 'nope', [FLAGS]: 'sh-port' },
      /unknown IPVS scheduler "nope"/,
    ],
  ];
  for (const [what, annotations, expected] of bad) {
    it(`rejects ${what}, naming the field`, () => {
      const errors = flagsOf(annotations);
      assert.equal(typeof errors, 'string');
      assert.match(
        errors as string,
        /^metadata\.annotations\[kproxy\.io\/ipvs-scheduler-flags\]: Invalid value/,
      );
      assert.match(errors as string, expected);
    });
  }

  it('parses a comma-separated value', () => {
    assert.deepEqual(parseSchedulerFlags('mh-port, mh-fallback'), ['mh-port', 'mh-fallback']);
    assert.deepEqual(parseSchedulerFlags(' , '), []);
  });

  it('in a manifest: the bad Service is reported with file:line and skipped, the good one kept', () => {
    const text = [
      'apiVersion: v1',
      'kind: Service',
      'metadata:',
      '  name: good',
      '  namespace: shop',
      '  annotations: {kproxy.io/ipvs-scheduler: sh, kproxy.io/ipvs-scheduler-flags: sh-port}',
      'spec: {clusterIP: 10.96.0.10, ports: [{port: 80}]}',
      '---',
      'apiVersion: v1',
      'kind: Service',
      'metadata:',
      '  name: bad',
      '  namespace: shop',
      '  annotations: {kproxy.io/ipvs-scheduler: sh, kproxy.io/ipvs-scheduler-flags: mh-port}',
      'spec: {clusterIP: 10.96.0.11, ports: [{port: 80}]}',
    ].join('\n');
    const parsed = parseManifestText(text, 'services.yaml');
    assert.deepEqual(
      parsed.objects.map((o) => o.key),
      ['shop/good'],
    );
    assert.equal(parsed.errors.length, 1);
    assert.equal(parsed.errors[0]?.code, 'KPROXY_E_MANIFEST');
    assert.equal(
      parsed.errors[0]?.message,
      'services.yaml:9: Service shop/bad: metadata.annotations[kproxy.io/ipvs-scheduler-flags]: ' +
        'Invalid value: "mh-port": scheduler flag "mh-port" belongs to the mh scheduler, not sh; ' +
        'sh takes: sh-fallback, sh-port',
    );
  });
});
