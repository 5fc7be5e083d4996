import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildProxyState } from '../../src/control/build-proxy-state.js';
import { ProxyStateBuilder } from '../../src/control/proxy-state-builder.js';
import type { Endpoint } from '../../src/model/endpoint.js';
import { service, slice } from './fixtures.js';

const ips = (list: readonly Endpoint[] | undefined) => list?.map((e) => e.ip);

describe('ProxyStateBuilder', () => {
  it('reports the service ports that changed, and only those', () => {
    const builder = new ProxyStateBuilder('node-a');
    builder.updateService('ns/a', service('a'));
    builder.updateService('ns/b', service('b', { clusterIP: '10.96.0.2' }));
    builder.updateEndpointSlice('ns/a-1', slice('a', [{ ip: '10.0.0.1' }]));
    assert.deepEqual([...builder.build().changed].sort(), ['ns/a:http', 'ns/b:http']);

    builder.updateEndpointSlice('ns/a-1', slice('a', [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }]));
    const update = builder.build();
    assert.deepEqual([...update.changed], ['ns/a:http']);
    assert.deepEqual(ips(update.state.servicePorts.get('ns/a:http')?.clusterEndpoints), [
      '10.0.0.1',
      '10.0.0.2',
    ]);
  });

  it('drops no-op updates: the same object again, or a new resourceVersion only', () => {
    const builder = new ProxyStateBuilder('node-a');
    builder.updateService('ns/a', service('a'));
    const first = builder.build();
    assert.equal(builder.updateService('ns/a', service('a')), false);
    const resynced = service('a');
    resynced.metadata.resourceVersion = '999';
    assert.equal(builder.updateService('ns/a', resynced), false);
    const second = builder.build();
    assert.equal(second.changed.size, 0);
    assert.equal(second.state, first.state, 'an unchanged world keeps the same snapshot');
  });

  it('drops a change undone before the next build', () => {
    const builder = new ProxyStateBuilder('node-a');
    builder.updateService('ns/a', service('a'));
    builder.build();
    builder.updateService('ns/a', service('a', { clusterIP: '10.96.0.9' }));
    builder.updateService('ns/a', service('a'));
    assert.equal(builder.hasPendingChanges(), false);
    assert.equal(builder.build().changed.size, 0);
  });

  it('reports a deleted Service port as changed and removes it', () => {
    const builder = new ProxyStateBuilder('node-a');
    builder.updateService(
      'ns/a',
      service('a', {
        ports: [
          { name: 'http', port: 80 },
          { name: 'dns', protocol: 'UDP', port: 53 },
        ],
      }),
    );
    builder.build();
    builder.updateService('ns/a', service('a', { ports: [{ name: 'http', port: 80 }] }));
    const update = builder.build();
    assert.deepEqual([...update.changed], ['ns/a:dns']);
    assert.deepEqual([...update.state.servicePorts.keys()], ['ns/a:http']);
  });

  it('leaves the previous snapshot untouched (immutable states)', () => {
    const builder = new ProxyStateBuilder('node-a');
    builder.updateService('ns/a', service('a'));
    const before = builder.build().state;
    builder.updateService('ns/b', service('b'));
    const after = builder.build().state;
    assert.deepEqual([...before.servicePorts.keys()], ['ns/a:http']);
    assert.deepEqual([...after.servicePorts.keys()].sort(), ['ns/a:http', 'ns/b:http']);
    assert.ok(Object.isFrozen(after.servicePorts.get('ns/a:http')));
  });

  it('keeps every snapshot as it was over many changes (shared and fully copied ones alike)', () => {
    const builder = new ProxyStateBuilder('node-a');
    for (let i = 0; i < 200; i++) builder.updateService(`ns/s${i}`, service(`s${i}`));
    const snapshots = [builder.build().state];
    for (let round = 1; round <= 150; round++) {
      const i = round % 200;
      builder.updateEndpointSlice(`ns/s${i}-1`, slice(`s${i}`, [{ ip: `10.0.${round}.1` }]));
      if (round % 50 === 0) builder.updateService(`ns/s${i + 1}`, undefined);
      snapshots.push(builder.build().state);
    }
    assert.equal(snapshots[0]?.servicePorts.get('ns/s1:http')?.clusterEndpoints.length, 0);
    assert.equal(snapshots[1]?.servicePorts.get('ns/s1:http')?.clusterEndpoints[0]?.ip, '10.0.1.1');
    assert.equal(snapshots[100]?.servicePorts.get('ns/s100:http')?.clusterEndpoints[0]?.ip, '10.0.100.1');
    assert.equal(snapshots[49]?.servicePorts.has('ns/s51:http'), true);
    assert.equal(snapshots[50]?.servicePorts.has('ns/s51:http'), false);
    assert.equal(snapshots[150]?.servicePorts.size, 197);
    assert.equal([...(snapshots[150]?.servicePorts.keys() ?? [])].length, 197);
  });

  it('re-chooses endpoints when the node moves to another zone', () => {
    const builder = new ProxyStateBuilder('node-a', 'zone-a');
    builder.updateService('ns/a', service('a'));
    const hinted = slice('a', [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }]);
    for (const [i, e] of (hinted.endpoints ?? []).entries()) {
      Object.assign(e, { hints: { forZones: [{ name: i === 0 ? 'zone-a' : 'zone-b' }] } });
    }
    builder.updateEndpointSlice('ns/a-1', hinted);
    assert.deepEqual(ips(builder.build().state.servicePorts.get('ns/a:http')?.clusterEndpoints), [
      '10.0.0.1',
    ]);
    builder.setZone('zone-b');
    assert.deepEqual(ips(builder.build().state.servicePorts.get('ns/a:http')?.clusterEndpoints), [
      '10.0.0.2',
    ]);
  });
});

describe('buildProxyState', () => {
  it('skips ExternalName, headless and other proxies’ Services', () => {
    const other = service('other');
    other.metadata.labels = { 'service.kubernetes.io/service-proxy-name': 'another-proxy' };
    const state = buildProxyState({
      services: [
        service('plain'),
        service('external', { type: 'ExternalName', clusterIP: undefined }),
        service('headless', { clusterIP: 'None' }),
        other,
      ],
      endpointSlices: [],
      nodeName: 'node-a',
    });
    assert.deepEqual([...state.servicePorts.keys()], ['ns/plain:http']);
  });

  it('takes endpoints from every slice of the Service, each address once, on the slice port', () => {
    const state = buildProxyState({
      services: [service('a')],
      endpointSlices: [
        slice('a', [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }], { name: 'a-1' }),
        slice('a', [{ ip: '10.0.0.2' }, { ip: '10.0.0.3' }], { name: 'a-2' }),
        slice('b', [{ ip: '10.0.0.9' }], { name: 'b-1' }),
        slice('a', [{ ip: '10.0.0.8' }], { name: 'a-other-ns', namespace: 'other' }),
      ],
      nodeName: 'node-a',
    });
    const port = state.servicePorts.get('ns/a:http');
    assert.deepEqual(ips(port?.clusterEndpoints), ['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    assert.equal(port?.clusterEndpoints[0]?.port, 8080);
  });

  it('ignores FQDN slices and slices labelled headless', () => {
    const headless = slice('a', [{ ip: '10.0.0.2' }], { name: 'a-headless' });
    headless.metadata.labels = { ...headless.metadata.labels, 'service.kubernetes.io/headless': '' };
    const fqdn = { ...slice('a', [], { name: 'a-fqdn' }), addressType: 'FQDN' as const };
    fqdn.endpoints = [{ addresses: ['db.example.com'] }];
    const state = buildProxyState({
      services: [service('a')],
      endpointSlices: [slice('a', [{ ip: '10.0.0.1' }]), headless, fqdn],
      nodeName: 'node-a',
    });
    assert.deepEqual(ips(state.servicePorts.get('ns/a:http')?.clusterEndpoints), ['10.0.0.1']);
  });

  it('applies traffic policies: cluster IP traffic by ITP, outside traffic by ETP', () => {
    const endpoints = [{ ip: '10.0.0.1', node: 'node-a' }, { ip: '10.0.0.2' }];
    const state = buildProxyState({
      services: [
        service('itp', { internalTrafficPolicy: 'Local' }),
        service('etp', {
          type: 'NodePort',
          externalTrafficPolicy: 'Local',
          ports: [{ name: 'http', port: 80, nodePort: 30080 }],
        }),
      ],
      endpointSlices: [slice('itp', endpoints), slice('etp', endpoints)],
      nodeName: 'node-a',
    });
    const itp = state.servicePorts.get('ns/itp:http');
    assert.deepEqual(ips(itp?.clusterEndpoints), ['10.0.0.1']);
    const etp = state.servicePorts.get('ns/etp:http');
    assert.deepEqual(ips(etp?.clusterEndpoints), ['10.0.0.1', '10.0.0.2']);
    assert.deepEqual(ips(etp?.externalEndpoints), ['10.0.0.1']);
    assert.deepEqual(ips(etp?.localEndpoints), ['10.0.0.1']);
  });

  it('chooses dual-stack endpoints per family: IPv6 falls back to terminating on its own', () => {
    const state = buildProxyState({
      services: [service('dual', { clusterIP: '10.96.0.5', clusterIPs: ['10.96.0.5', 'fd00::5'] })],
      endpointSlices: [
        slice('dual', [{ ip: '10.0.0.1' }], { name: 'dual-v4' }),
        slice('dual', [{ ip: 'fd00::1', ready: false, terminating: true }], {
          name: 'dual-v6',
          addressType: 'IPv6',
        }),
      ],
      nodeName: 'node-a',
    });
    const port = state.servicePorts.get('ns/dual:http');
    assert.deepEqual(port?.ipFamilies, ['IPv4', 'IPv6']);
    assert.deepEqual(ips(port?.clusterEndpoints), ['10.0.0.1']);
    assert.deepEqual(port?.familiesWithEndpoints, ['IPv4']);
  });

  it('ignores endpoints of a family the Service has no cluster IP of', () => {
    const state = buildProxyState({
      services: [service('v4')],
      endpointSlices: [slice('v4', [{ ip: 'fd00::1' }], { addressType: 'IPv6' })],
      nodeName: 'node-a',
    });
    assert.equal(state.servicePorts.get('ns/v4:http')?.hasAnyEndpoints, false);
  });

  it('carries affinity, scheduler annotation and load-balancer frontends (VIP mode only)', () => {
    const svc = service('lb', {
      type: 'LoadBalancer',
      sessionAffinity: 'ClientIP',
      ports: [{ name: 'http', port: 80, nodePort: 30080 }],
    });
    svc.metadata.annotations = { 'kproxy.io/ipvs-scheduler': 'lc' };
    svc.status = {
      loadBalancer: { ingress: [{ ip: '192.168.1.51' }, { ip: '192.168.1.52', ipMode: 'Proxy' }] },
    };
    const port = buildProxyState({ services: [svc], endpointSlices: [], nodeName: 'n' }).servicePorts.get(
      'ns/lb:http',
    );
    assert.deepEqual(port?.sessionAffinity, { type: 'ClientIP', timeoutSeconds: 10800 });
    assert.equal(port?.scheduler, 'lc');
    assert.deepEqual(port?.loadBalancerIPs, ['192.168.1.51']);
    assert.equal(port?.nodePort, 30080);
  });
});
