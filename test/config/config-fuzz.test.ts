import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../src/config/config-error.js';
import { renderKubeProxyConfiguration, resolveEffectiveConfig } from '../../src/config/effective-config.js';
import { writeConfig } from './config-test-helpers.js';

const fixture = (name: string) =>
  readFileSync(fileURLToPath(new URL(`fixtures/${name}`, import.meta.url)), 'utf8');
const corpus = [fixture('config.conf'), fixture('configmap-ipvs-rr.yaml')];
const iterations = 3000;

/** A small seeded generator (mulberry32), so every run mutates the same way and a failure repeats. */
function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const values = [
  'abc',
  '42',
  '-1',
  '1.5',
  'true',
  'null',
  '[]',
  '{}',
  '"x"',
  '30',
  '1h',
  '-5s',
  '0s',
  '99999999999',
  '.inf',
  '~',
  '10.0.0.0/8',
  '"::1"',
  '[a, b]',
  '{a: 1}',
  '""',
  'ipvs',
  'nftables',
  'rr',
  '"0.0.0.0:0"',
  '|',
  '&a 1',
  '*a',
];
const junk = [
  ':',
  '-',
  '[',
  ']',
  '{',
  '}',
  '"',
  "'",
  '\t',
  '#',
  '|',
  '>',
  '&',
  '*',
  '!',
  '%',
  ',',
  '?',
  '\u00b5',
  ' ',
];

type Mutation = (lines: string[], pick: (n: number) => number) => void;
const mutations: Mutation[] = [
  (lines, pick) => void lines.splice(pick(lines.length), 1),
  (lines, pick) => {
    const at = pick(lines.length);
    lines.splice(at, 0, lines[at] ?? '');
  },
  (lines, pick) => {
    const at = pick(lines.length);
    lines[at] = (lines[at] ?? '').replace(/:( .*)?$/, `: ${values[pick(values.length)]}`);
  },
  (lines, pick) => {
    const at = pick(lines.length);
    const line = lines[at] ?? '';
    const cut = pick(line.length + 1);
    lines[at] = line.slice(0, cut) + junk[pick(junk.length)] + line.slice(cut);
  },
  (lines, pick) => {
    const at = pick(lines.length);
    lines[at] = ' '.repeat(pick(6)) + (lines[at] ?? '').trimStart();
  },
  (lines, pick) => {
    const at = pick(lines.length);
    lines[at] = (lines[at] ?? '').replace(/[a-z]/i, (letter) =>
      String.fromCharCode(letter.charCodeAt(0) + 1),
    );
  },
  (lines, pick) =>
    void lines.splice(
      pick(lines.length),
      0,
      `${' '.repeat(pick(3) * 2)}unknownField: ${values[pick(values.length)]}`,
    ),
  (lines, pick) => void lines.splice(pick(lines.length)),
];

function mutate(text: string, random: () => number): string {
  const pick = (n: number) => Math.floor(random() * n);
  const lines = text.split('\n');
  for (let count = 1 + pick(3); count > 0; count--) mutations[pick(mutations.length)]?.(lines, pick);
  const joined = lines.join('\n');
  return random() < 0.1 ? joined.slice(0, pick(joined.length + 1)) : joined;
}

describe('fuzzed configurations', () => {
  it(`${iterations} mutated configs: no crash; every rejection names file:line and a field path`, () => {
    const random = seededRandom(20230314);
    const path = writeConfig('', 'fuzz.yaml');
    let accepted = 0;
    let rejected = 0;
    for (let round = 0; round < iterations; round++) {
      const text = mutate(corpus[round % corpus.length] ?? '', random);
      writeConfig(text, 'fuzz.yaml');
      const lineCount = text.split('\n').length;
      try {
        const { config } = resolveEffectiveConfig({ configPath: path });
        const again = resolveEffectiveConfig({
          configPath: writeConfig(renderKubeProxyConfiguration(config), 'fuzz-out.yaml'),
        });
        assert.deepEqual(again.config, config, `round-trip differs for:\n${text}`);
        accepted++;
      } catch (error) {
        if (!(error instanceof ConfigError))
          assert.fail(`round ${round} threw ${String(error)} for:\n${text}`);
        assert.equal(error.code, 'KPROXY_E_CONFIG');
        assert.ok(error.problems.length > 0);
        for (const problem of error.problems) {
          const line = Number(problem.where.slice(path.length + 1));
          assert.ok(
            problem.where.startsWith(`${path}:`) && line >= 1 && line <= lineCount + 1,
            `where ${problem.where}\n${text}`,
          );
          assert.ok(problem.path.length > 0 && problem.message.length > 0, `no field path:\n${text}`);
        }
        rejected++;
      }
    }
    assert.ok(
      accepted > iterations / 20 && rejected > iterations / 4,
      `accepted ${accepted}, rejected ${rejected}`,
    );
  });
});
