import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeEndpointSlice, decodeNode } from '../../src/model/decode-endpoint-slice.js';
import { formatFieldErrors } from '../../src/model/decode-metadata.js';
import { decodeService } from '../../src/model/decode-service.js';

// biome-ignore lint/suspicious/noExplicitAny: the tests break arbitrary fields of raw objects on purpose
type Raw = Record<string, any>;

function goodService(): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'shop', annotations: { 'kproxy.io/ipvs-scheduler': 'lc' } },
    spec: {
      type: 'LoadBalancer',
      clusterIP: '10.96.0.10',
      clusterIPs: ['10.96.0.10', 'fd00::10'],
      ipFamilies: ['IPv4', 'IPv6'],
      ports: [
        { name: 'http', protocol: 'TCP', port: 80, targetPort: 'web-http', nodePort: 30080 },
        { name: 'dns', protocol: 'UDP', port: 53, targetPort: 5353 },
      ],
      externalIPs: ['192.0.2.1'],
      loadBalancerSourceRanges: [' 10.0.0.0/8 '],
      sessionAffinity: 'ClientIP',
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } },
      externalTrafficPolicy: 'Local',
      internalTrafficPolicy: 'Cluster',
      healthCheckNodePort: 31402,
      trafficDistribution: 'PreferClose',
    },
    status: { loadBalancer: { ingress: [{ ip: '192.168.1.51', ipMode: 'VIP' }] } },
  };
}

/** Applies `mutate` to a good Service and returns the decode errors as one string. */
function serviceErrors(mutate: (s: Raw) => void): string {
  const raw = structuredClone(goodService()) as Raw;
  mutate(raw);
  const result = decodeService(raw);
  return result.ok ? '' : formatFieldErrors(result.errors);
}

describe('decodeService', () => {
  it('accepts every field the proxy reads, trimming source ranges as kube-proxy does', () => {
    const result = decodeService(goodService());
    assert.ok(result.ok);
    assert.deepEqual(result.object.spec.loadBalancerSourceRanges, ['10.0.0.0/8']);
    assert.equal(result.object.spec.ports?.[0]?.targetPort, 'web-http');
    assert.equal(result.object.metadata.namespace, 'shop');
  });

  const rejections: [string, (s: Raw) => void, RegExp][] = [
    [
      'a name that is not a DNS-1035 label',
      (s) => (s.metadata.name = 'Web"x'),
      /metadata\.name: Invalid value: "Web\\"x"/,
    ],
    [
      'a namespace with a newline',
      (s) => (s.metadata.namespace = 'shop\nCOMMIT'),
      /metadata\.namespace: Invalid value: "shop\\nCOMMIT"/,
    ],
    ['a 64-character name', (s) => (s.metadata.name = 'a'.repeat(64)), /metadata\.name: .*no more than 63/],
    ['a missing name', (s) => delete s.metadata.name, /metadata\.name: Required value/],
    ['a port name with a quote', (s) => (s.spec.ports[0].name = "http'"), /spec\.ports\[0\]\.name/],
    [
      'a missing port name among several',
      (s) => delete s.spec.ports[1].name,
      /spec\.ports\[1\]\.name: Required value/,
    ],
    ['a duplicate port name', (s) => (s.spec.ports[1].name = 'http'), /spec\.ports\[1\]\.name: .*Duplicate/],
    ['port 0', (s) => (s.spec.ports[0].port = 0), /spec\.ports\[0\]\.port: .*between 1 and 65535/],
    ['a port given as text', (s) => (s.spec.ports[0].port = '80'), /spec\.ports\[0\]\.port: .*integer/],
    ['a nodePort out of range', (s) => (s.spec.ports[0].nodePort = 70000), /spec\.ports\[0\]\.nodePort/],
    [
      'a named targetPort that is not an IANA service name',
      (s) => (s.spec.ports[0].targetPort = 'http--x'),
      /targetPort.*consecutive hyphens/,
    ],
    [
      'an unknown protocol',
      (s) => (s.spec.ports[0].protocol = 'ICMP'),
      /spec\.ports\[0\]\.protocol: Unsupported value: "ICMP"/,
    ],
    ['a bad cluster IP', (s) => (s.spec.clusterIP = '10.96.0.300'), /spec\.clusterIP: Invalid value/],
    [
      'clusterIPs of one family twice',
      (s) => (s.spec.clusterIPs = ['10.96.0.10', '10.96.0.11']),
      /spec\.clusterIPs: .*one address of each IP family/,
    ],
    [
      'clusterIPs[0] not matching clusterIP',
      (s) => (s.spec.clusterIPs = ['10.96.0.11']),
      /spec\.clusterIPs\[0\]: .*must match spec\.clusterIP/,
    ],
    [
      'an external IP with a shell command',
      (s) => (s.spec.externalIPs = ['1.2.3.4;reboot']),
      /spec\.externalIPs\[0\]/,
    ],
    [
      'a bad source range',
      (s) => (s.spec.loadBalancerSourceRanges = ['10.0.0.0/40']),
      /spec\.loadBalancerSourceRanges\[0\]/,
    ],
    [
      'an affinity timeout over a day',
      (s) => (s.spec.sessionAffinityConfig.clientIP.timeoutSeconds = 86401),
      /timeoutSeconds: .*between 1 and 86400/,
    ],
    [
      'an unknown traffic policy',
      (s) => (s.spec.externalTrafficPolicy = 'Global'),
      /spec\.externalTrafficPolicy: Unsupported value/,
    ],
    ['an unknown type', (s) => (s.spec.type = 'Magic'), /spec\.type: Unsupported value/],
    [
      'a scheduler annotation that could inject',
      (s) => (s.metadata.annotations['kproxy.io/ipvs-scheduler'] = 'rr --x'),
      /ipvs-scheduler\]: Invalid value/,
    ],
    [
      'a bad load-balancer ingress IP',
      (s) => (s.status.loadBalancer.ingress[0].ip = 'lb.example'),
      /status\.loadBalancer\.ingress\[0\]\.ip/,
    ],
    ['ports that are not a list', (s) => (s.spec.ports = { port: 80 }), /spec\.ports: .*must be a list/],
    [
      'a label value that is not a string',
      (s) => (s.metadata.labels = { app: 5 }),
      /metadata\.labels\["app"\]: .*must be a string/,
    ],
  ];
  for (const [name, mutate, expected] of rejections) {
    it(`rejects ${name}, naming the field`, () => assert.match(serviceErrors(mutate), expected));
  }
});

describe('decodeEndpointSlice and decodeNode', () => {
  const goodSlice = () => ({
    metadata: { name: 'web-x7k2p', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
    endpoints: [
      {
        addresses: ['10.0.0.1'],
        conditions: { ready: false, serving: true, terminating: true },
        nodeName: 'worker-1',
        zone: 'zone-a',
        hints: { forZones: [{ name: 'zone-a' }], forNodes: [{ name: 'worker-1' }] },
        targetRef: { kind: 'Pod', name: 'web-1', namespace: 'shop' },
      },
    ],
  });

  it('accepts a slice with conditions, hints and topology', () => {
    const result = decodeEndpointSlice(goodSlice());
    assert.ok(result.ok);
    assert.deepEqual(result.object.endpoints?.[0]?.conditions, {
      ready: false,
      serving: true,
      terminating: true,
    });
  });

  const rejections: [string, (s: Raw) => void, RegExp][] = [
    [
      'an address of the wrong family',
      (s) => (s.endpoints[0].addresses = ['fd00::1']),
      /endpoints\[0\]\.addresses\[0\]: .*IPv4/,
    ],
    ['no addresses', (s) => (s.endpoints[0].addresses = []), /endpoints\[0\]\.addresses: Required value/],
    [
      'a missing service-name label',
      (s) => (s.metadata.labels = {}),
      /kubernetes\.io\/service-name\]: Required value/,
    ],
    ['a node name with a space', (s) => (s.endpoints[0].nodeName = 'worker 1'), /endpoints\[0\]\.nodeName/],
    [
      'a zone hint with a quote',
      (s) => (s.endpoints[0].hints.forZones[0].name = 'zone"a'),
      /hints\.forZones\[0\]\.name/,
    ],
    [
      'a ready condition given as text',
      (s) => (s.endpoints[0].conditions.ready = 'yes'),
      /conditions\.ready: .*true or false/,
    ],
    ['a port name with capitals', (s) => (s.ports[0].name = 'HTTP'), /ports\[0\]\.name/],
    ['an unknown address type', (s) => (s.addressType = 'IPv5'), /addressType: Unsupported value/],
  ];
  for (const [name, mutate, expected] of rejections) {
    it(`rejects ${name}`, () => {
      const raw = goodSlice() as Raw;
      mutate(raw);
      const result = decodeEndpointSlice(raw);
      assert.equal(result.ok, false);
      if (!result.ok) assert.match(formatFieldErrors(result.errors), expected);
    });
  }

  it('reads a Node and checks its zone label', () => {
    assert.ok(
      decodeNode({ metadata: { name: 'worker-1', labels: { 'topology.kubernetes.io/zone': 'zone-a' } } }).ok,
    );
    const bad = decodeNode({
      metadata: { name: 'worker-1', labels: { 'topology.kubernetes.io/zone': 'zone a' } },
    });
    assert.equal(bad.ok, false);
  });
});
