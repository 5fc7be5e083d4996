import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseDocument, stringify } from 'yaml';
import { buildProxyState } from '../../src/control/build-proxy-state.js';
import { KproxyError } from '../../src/errors.js';
import type { EndpointSliceObject, ServiceObject } from '../../src/model/k8s-objects.js';
import { parseManifestText } from '../../src/sources/manifest-file.js';

const SEED = readFileSync(new URL('../../examples/seed/nginx.yaml', import.meta.url), 'utf8');
const SEED_DOCS = SEED.split(/^---$/m).map((text) => parseDocument(text).toJS() as unknown);

/** A small deterministic PRNG (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NASTY_VALUES: unknown[] = [
  '',
  'x',
  'Web',
  'a"b',
  "a'b",
  'a\nb',
  'a;reboot',
  '$(id)',
  '`id`',
  '-A KUBE',
  'a'.repeat(300),
  '10.0.0.300',
  '::1',
  'fe80::1%eth0',
  '10.0.0.0/33',
  'None',
  'TCP',
  'ICMP',
  'Local',
  'PreferClose',
  'ClientIP',
  0,
  -1,
  1,
  80,
  65535,
  65536,
  1.5,
  Number.MAX_SAFE_INTEGER,
  true,
  false,
  null,
  [],
  {},
  ['10.0.0.1'],
  [{}],
  { name: 'x' },
];

function pick<T>(rand: () => number, list: readonly T[]): T {
  return list[Math.floor(rand() * list.length)] as T;
}

/** Replaces, deletes or adds one field somewhere inside `value`. */
function mutate(value: unknown, rand: () => number, depth = 0): unknown {
  if (Array.isArray(value)) {
    if (value.length === 0 || rand() < 0.15) return [...value, pick(rand, NASTY_VALUES)];
    const i = Math.floor(rand() * value.length);
    return value.map((item, j) => (j === i ? mutate(item, rand, depth + 1) : item));
  }
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value);
    const roll = rand();
    if (entries.length === 0 || roll < 0.1)
      return { ...value, [pick(rand, ['name', 'port', 'x', 'kind'])]: pick(rand, NASTY_VALUES) };
    const [key] = pick(rand, entries);
    if (roll < 0.2 && depth > 0) {
      const { [key]: _dropped, ...rest } = value as Record<string, unknown>;
      return rest;
    }
    return { ...value, [key]: mutate((value as Record<string, unknown>)[key], rand, depth + 1) };
  }
  return pick(rand, NASTY_VALUES);
}

function mutateText(text: string, rand: () => number): string {
  const at = Math.floor(rand() * text.length);
  const roll = rand();
  if (roll < 0.3) return text.slice(0, at) + text.slice(at + 1);
  if (roll < 0.6)
    return (
      text.slice(0, at) +
      pick(rand, [':', '-', '[', '{', '"', "'", '\n', ' ', '#', '&a', '*a', '|']) +
      text.slice(at)
    );
  if (roll < 0.8) return text.slice(0, at);
  return text.slice(0, at) + text.slice(at).replace(/^ +/m, '');
}

const SAFE_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/** What must hold for any input: no crash, clear errors, and only safe strings in accepted objects. */
function checkParse(text: string): void {
  const parsed = parseManifestText(text, 'fuzz.yaml');
  for (const error of parsed.errors) {
    assert.ok(error instanceof KproxyError && error.code === 'KPROXY_E_MANIFEST');
    assert.match(error.message, /^fuzz\.yaml:\d+: \S/);
    assert.ok(error.hint);
  }
  const services: ServiceObject[] = [];
  const slices: EndpointSliceObject[] = [];
  for (const { object } of parsed.objects) {
    assert.match(object.metadata.name, SAFE_NAME);
    if (object.kind === 'Service') {
      services.push(object);
      for (const port of object.spec.ports ?? []) assert.match(port.name ?? 'unnamed', SAFE_NAME);
    } else if (object.kind === 'EndpointSlice') slices.push(object);
  }
  const state = buildProxyState({ services, endpointSlices: slices, nodeName: 'worker01' });
  for (const port of state.servicePorts.values())
    assert.match(port.id, /^[a-z0-9.-]+\/[a-z0-9.-]+(:[a-z0-9-]+)?$/);
}

describe('fuzzing manifests (bounded)', () => {
  it('survives 2,000 field mutations of the seed manifest', () => {
    const rand = random(20260314);
    for (let i = 0; i < 2000; i++) {
      let docs = SEED_DOCS;
      const rounds = 1 + Math.floor(rand() * 3);
      for (let r = 0; r < rounds; r++) docs = docs.map((doc) => (rand() < 0.6 ? mutate(doc, rand) : doc));
      const text = docs.map((doc) => stringify(doc)).join('---\n');
      try {
        checkParse(text);
      } catch (error) {
        assert.fail(`mutation ${i} broke an invariant: ${(error as Error).message}\n${text}`);
      }
    }
  });

  it('survives 1,000 text mutations of the seed manifest', () => {
    const rand = random(42);
    for (let i = 0; i < 1000; i++) {
      let text = SEED;
      for (let r = 0; r < 1 + Math.floor(rand() * 4); r++) text = mutateText(text, rand);
      try {
        checkParse(text);
      } catch (error) {
        assert.fail(`text mutation ${i} broke an invariant: ${(error as Error).message}\n${text}`);
      }
    }
  });
});
