import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadProxyConfig } from '../../src/config/load-config.js';

const examples = fileURLToPath(new URL('../../examples/config/', import.meta.url));

/** What each example configuration must resolve to: its mode and IPVS scheduler. */
const expected: Record<string, [string, string]> = {
  'iptables.yaml': ['iptables', 'rr'],
  'ipvs-lc.yaml': ['ipvs', 'lc'],
  'nftables-dual-stack.yaml': ['nftables', 'rr'],
  'kube-proxy-configmap-ipvs-sh.yaml': ['ipvs', 'sh'],
};

describe('examples/config', () => {
  it('holds exactly the examples this test knows', () => {
    assert.deepEqual(readdirSync(examples).sort(), Object.keys(expected).sort());
  });
  for (const [name, [mode, scheduler]] of Object.entries(expected)) {
    it(`${name} loads as ${mode} with scheduler ${scheduler}`, () => {
      const config = loadProxyConfig(`${examples}${name}`);
      assert.deepEqual([config.mode, config.ipvs.scheduler], [mode, scheduler]);
    });
  }
});
