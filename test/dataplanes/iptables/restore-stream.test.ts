import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildIptablesRuleSet, renderIptablesRestore } from '../../../src/dataplanes/iptables/render.js';
import {
  chunksOfRestoreText,
  RestoreLedger,
  restoreTextOf,
} from '../../../src/dataplanes/iptables/restore-chunks.js';
import { serializeRuleSet } from '../../../src/dataplanes/iptables/serialize.js';
import { planSync } from '../../../src/dataplanes/iptables/sync-plan.js';
import { parseIptablesRules, splitWords } from '../../fakes/iptables-restore.js';
import { endpoint, type PortSpec, renderOptions, stateOf } from './fixtures.js';

const options = renderOptions({ clusterCIDRs: ['10.0.0.0/8'] });
const specs: PortSpec[] = [
  {
    namespace: 'ns',
    name: 'web',
    port: 80,
    clusterIP: '172.30.0.1',
    nodePort: 30080,
    endpoints: [endpoint('10.180.0.1', 80), endpoint('10.180.0.2', 80)],
  },
  { namespace: 'ns', name: 'empty', port: 80, clusterIP: '172.30.0.2', externalIPs: ['192.168.9.9'] },
  {
    namespace: 'ns',
    name: 'lb',
    port: 443,
    clusterIP: '172.30.0.3',
    loadBalancerIPs: ['5.6.7.8'],
    loadBalancerSourceRanges: ['203.0.113.0/24'],
    externalTrafficPolicy: 'Local',
    sessionAffinity: { type: 'ClientIP', timeoutSeconds: 600 },
    endpoints: [endpoint('10.180.0.3', 443, true), endpoint('10.180.0.4', 443)],
  },
];

/** Enough ports for the full sync to write them in several batches. */
const many: PortSpec[] = [
  ...specs,
  ...Array.from(
    { length: 1200 },
    (_, i): PortSpec => ({
      namespace: 'bulk',
      name: `svc${i}`,
      port: 80,
      clusterIP: `172.31.${i >> 8}.${i & 255}`,
      endpoints: [endpoint(`10.181.${i >> 8}.${i & 255}`, 80)],
    }),
  ),
];

test('the streamed full sync loads exactly the chains and rules of the rendered restore text', () => {
  const streamed = parseIptablesRules(
    restoreTextOf(planSync({ state: stateOf(...many), options }).restore).text,
  );
  const rendered = parseIptablesRules(renderIptablesRestore(stateOf(...many), options));
  const rulesOf = (parsed: typeof rendered, table: string) =>
    Object.fromEntries(
      [...(parsed.get(table)?.chains ?? [])].map(([chain, rules]) => [
        chain,
        rules.map((r) => r.args.join(' ')),
      ]),
    );
  for (const table of ['nat', 'filter']) assert.deepEqual(rulesOf(streamed, table), rulesOf(rendered, table));
});

test('in the streamed text every chain is declared before a rule appends to it or jumps to it', () => {
  const { text } = restoreTextOf(planSync({ state: stateOf(...many), options }).restore);
  let declared = new Set<string>();
  let rules = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) declared = new Set();
    if (line.startsWith(':')) declared.add(line.slice(1).split(' ')[0] ?? '');
    if (!line.startsWith('-A ')) continue;
    rules++;
    const words = splitWords(line);
    assert.ok(declared.has(words[1] ?? ''), `appended before declared: ${line}`);
    const target = words[words.indexOf('-j') + 1] ?? '';
    if (target.startsWith('KUBE-')) assert.ok(declared.has(target), `jump before declared: ${line}`);
  }
  assert.ok(rules > 20);
});

test('each line of the streamed text is blamed on the Service port the rendered text blames it on', () => {
  const state = stateOf(...specs);
  const streamed = restoreTextOf(planSync({ state, options }).restore);
  const rendered = serializeRuleSet(buildIptablesRuleSet(state, options));
  const ownerOfRendered = new Map(
    rendered.text.split('\n').map((line, i) => [line, rendered.lineOwners[i + 1]]),
  );
  const lines = streamed.text.split('\n').filter((line) => line.startsWith(':') || line.startsWith('-A '));
  for (const line of lines) {
    const index = streamed.text.split('\n').indexOf(line);
    assert.equal(streamed.lineOwners[index + 1], ownerOfRendered.get(line), line);
  }
  assert.ok(streamed.lineOwners.includes('ns/lb:p443'));
});

test('chunks of a restore text join back to the same text and owners, and the ledger finds any line', () => {
  const restore = { text: 'a\nb\nc\nd\n', lineOwners: [undefined, 'x', 'x', undefined, 'y'] };
  const chunks = chunksOfRestoreText(restore);
  assert.deepEqual(
    chunks.map((chunk) => [chunk.text, chunk.owner]),
    [
      ['a\nb\n', 'x'],
      ['c\n', undefined],
      ['d\n', 'y'],
    ],
  );
  assert.deepEqual(restoreTextOf(chunks), restore);
  const ledger = new RestoreLedger();
  for (const chunk of chunks) ledger.add(chunk);
  assert.deepEqual(ledger.line(2), { text: 'b', owner: 'x' });
  assert.deepEqual(ledger.line(3), { text: 'c', owner: undefined });
  assert.deepEqual(ledger.line(4), { text: 'd', owner: 'y' });
  assert.equal(ledger.line(5), undefined);
});

test('a full sync writes the ports in batches, each declaring its own chains in sorted name order first', () => {
  const { text } = restoreTextOf(planSync({ state: stateOf(...many), options }).restore);
  const nat = text.slice(0, text.indexOf('COMMIT')).split('\n');
  const isOwn = (line: string) => /^:KUBE-(SVC|SVL|EXT|FW|SEP)-/.test(line);
  // Runs of consecutive own declarations: one per batch.
  const runs: string[][] = [];
  nat.forEach((line, i) => {
    if (!isOwn(line)) return;
    if (!isOwn(nat[i - 1] ?? '')) runs.push([]);
    runs.at(-1)?.push(line);
  });
  assert.equal(runs.length, 3, '1,203 ports in batches of 500');
  for (const run of runs) assert.deepEqual(run, [...run].sort());
  assert.equal(runs.flat().length, new Set(runs.flat()).size, 'each chain declared once');
});
