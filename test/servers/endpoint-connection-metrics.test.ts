import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { EndpointConnectionMetrics } from '../../src/servers/endpoint-connection-metrics.js';
import { endpoint, stateOf } from './fixtures.js';

async function series(registry: Registry): Promise<Map<string, number>> {
  const text = await registry.metrics();
  const result = new Map<string, number>();
  for (const match of text.matchAll(/^kproxy_endpoint_connections_total\{(.*)\} (\d+)$/gm)) {
    result.set(match[1] ?? '', Number(match[2]));
  }
  return result;
}

const labels = (servicePort: string, ep: string) => `service_port="${servicePort}",endpoint="${ep}"`;

describe('per-endpoint connection counters with bounded series', () => {
  it('gives the first endpoints their own series, then folds per service port, then into one', async () => {
    const registry = new Registry();
    const counters = new EndpointConnectionMetrics({
      registry,
      maxEndpointSeries: 2,
      maxServicePortSeries: 1,
    });
    counters.add('ns/a:http', '10.0.0.1:80', 5);
    counters.add('ns/a:http', '10.0.0.2:80', 3);
    counters.add('ns/a:http', '10.0.0.3:80', 7);
    counters.add('ns/a:http', '10.0.0.4:80', 1);
    counters.add('ns/b:http', '10.0.1.1:80', 2);
    counters.add('ns/a:http', '10.0.0.1:80', 1);
    assert.deepEqual(
      await series(registry),
      new Map([
        [labels('ns/a:http', '10.0.0.1:80'), 6],
        [labels('ns/a:http', '10.0.0.2:80'), 3],
        [labels('ns/a:http', 'other'), 8],
        [labels('other', 'other'), 2],
      ]),
    );
    assert.match(await registry.metrics(), /^kproxy_endpoint_connections_folded_endpoints 3$/m);
  });

  it('keeps at most maxEndpointSeries + maxServicePortSeries + 1 series for 10,000 endpoints', async () => {
    const registry = new Registry();
    const counters = new EndpointConnectionMetrics({
      registry,
      maxEndpointSeries: 50,
      maxServicePortSeries: 20,
    });
    let total = 0;
    for (let service = 0; service < 100; service++) {
      for (let i = 0; i < 100; i++) {
        counters.add(`ns/svc-${service}`, `10.${service}.0.${i}:80`, 1 + (i % 3));
        total += 1 + (i % 3);
      }
    }
    const all = await series(registry);
    assert.equal(all.size, 50 + 20 + 1);
    assert.equal(
      [...all.values()].reduce((a, b) => a + b, 0),
      total,
      'no connection is lost by folding',
    );
  });

  it('frees the slot of an endpoint that left the state, for the next newcomer', async () => {
    const registry = new Registry();
    const counters = new EndpointConnectionMetrics({ registry, maxEndpointSeries: 1 });
    counters.add('default/web', '10.0.0.1:8080', 4);
    counters.add('default/web', '10.0.0.2:8080', 1);
    counters.retain(stateOf({ name: 'web', endpoints: [endpoint('10.0.0.2'), endpoint('10.0.0.3')] }));
    counters.add('default/web', '10.0.0.3:8080', 9);
    assert.deepEqual(
      await series(registry),
      new Map([
        [labels('default/web', '10.0.0.3:8080'), 9],
        [labels('default/web', 'other'), 1],
      ]),
    );
  });

  it('turns cumulative readings into increments and survives a counter reset', async () => {
    const registry = new Registry();
    const counters = new EndpointConnectionMetrics({ registry });
    const reading = (total: number) => [{ servicePort: 'default/web', endpoint: '10.0.0.1:8080', total }];
    counters.observeTotals(reading(10));
    counters.observeTotals(reading(15));
    counters.observeTotals(reading(4)); // the rules were rewritten: their counters restarted at 0
    assert.equal((await series(registry)).get(labels('default/web', '10.0.0.1:8080')), 19);
  });
});
