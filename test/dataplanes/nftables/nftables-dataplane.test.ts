import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nftRunner } from '../../../src/dataplanes/nftables/nft-runner.js';
import { NftablesDataplane } from '../../../src/dataplanes/nftables/nftables-dataplane.js';
import { endpoint, renderOptions, stateOf } from './fixtures.js';

const state = stateOf(
  { id: 'ns1/web', clusterIP: '172.30.0.10', endpoints: [endpoint('10.1.0.1')] },
  { id: 'ns1/lb', clusterIP: '172.30.0.12', endpoints: [endpoint('10.1.0.2')] },
);

describe('NftablesDataplane without nft', () => {
  it('reports every Service as failed, with the reason, instead of throwing', async () => {
    const dataplane = new NftablesDataplane({
      render: renderOptions(),
      runner: nftRunner(['/nonexistent/nft']),
    });
    const result = await dataplane.sync(state, new Set());
    assert.equal(result.failed.size, state.servicePorts.size);
    assert.match(
      result.failed.get('ns1/lb')?.message ?? '',
      /nft -f refused the rules for the whole table: .*ENOENT/,
    );
  });

  it('after a failure nft did not tie to a Service, the next sync replaces the whole table', async () => {
    const scripts: string[] = [];
    let failNext = false;
    const runner = {
      async run(args: readonly string[], input?: string) {
        scripts.push(args.includes('-') ? (input ?? '') : `file ${args.at(-1)}`);
        return failNext
          ? { code: 1, stdout: '', stderr: 'Error: netlink: Device or resource busy' }
          : { code: 0, stdout: '', stderr: '' };
      },
    };
    const dataplane = new NftablesDataplane({ render: renderOptions(), runner });
    await dataplane.sync(state, new Set());
    failNext = true;
    assert.equal(
      (await dataplane.sync(state, new Set(['ns1/web']))).failed.size,
      0,
      'nothing changed, nothing sent',
    );
    const changed = stateOf(
      { id: 'ns1/web', clusterIP: '172.30.0.10', endpoints: [endpoint('10.1.0.9')] },
      { id: 'ns1/lb', clusterIP: '172.30.0.12', endpoints: [endpoint('10.1.0.2')] },
    );
    assert.deepEqual([...(await dataplane.sync(changed, new Set(['ns1/web']))).failed.keys()], ['ns1/web']);
    failNext = false;
    await dataplane.sync(changed, new Set(['ns1/web']));
    assert.match(scripts.at(-1) ?? '', /^file .*ruleset\.nft$/);
  });
});
