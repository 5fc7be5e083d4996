import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parsePacket } from '../../../src/cli/trace.js';
import { openConnectionsFromConntrack } from '../../../src/dataplanes/iptables/endpoint-counters.js';
import { parseIptablesRules, traceFlow } from '../../fakes/iptables-tracer.js';

const kproxy = fileURLToPath(new URL('../../../bin/kproxy.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'kp-ipt-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const config = join(dir, 'config.yaml');
writeFileSync(
  config,
  'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: ""\n',
);
const manifests = join(dir, 'svc.yaml');
writeFileSync(
  manifests,
  `apiVersion: v1
kind: Service
metadata: { name: web, namespace: shop }
spec:
  clusterIP: 172.30.0.41
  ports: [{ name: http, port: 80, protocol: TCP }]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: web-1, namespace: shop, labels: { kubernetes.io/service-name: web } }
addressType: IPv4
ports: [{ name: http, port: 8080, protocol: TCP }]
endpoints:
  - addresses: [10.180.0.1]
  - addresses: [10.180.0.2]
`,
);
const common = [
  '--config',
  config,
  '--manifests',
  manifests,
  '--cluster-cidr',
  '10.0.0.0/8',
  '--node-ip',
  '192.168.0.2',
];

function run(args: string[]) {
  return spawnSync(process.execPath, [kproxy, ...args], { encoding: 'utf8', timeout: 30_000 });
}

test('kproxy rules prints restore text that sends the Service to its endpoints', () => {
  const result = run(['rules', '--mode', 'iptables', ...common]);
  assert.equal(result.status, 0, result.stderr);
  assert.ok(parseIptablesRules(result.stdout).get('nat')?.chains.has('KUBE-SERVICES'));
  const flow = traceFlow(result.stdout, {
    src: '10.0.0.2',
    dst: '172.30.0.41',
    port: 80,
    localAddresses: ['192.168.0.2'],
  });
  assert.deepEqual(flow, { output: '10.180.0.1:8080, 10.180.0.2:8080', masquerade: false });
});

test('kproxy rules refuses a mode without a renderer, exit 2', () => {
  const result = run(['rules', '--mode', 'userspace', ...common]);
  assert.equal(result.status, 2);
  assert.match(result.stderr, /no rule renderer for mode "userspace"/);
});

test('kproxy trace prints the chains and the endpoints with their probabilities', () => {
  const result = run(['trace', ...common, '--src', '192.168.0.2', '--dst', '172.30.0.41:80/tcp']);
  assert.equal(result.status, 0, result.stderr);
  assert.match(
    result.stdout,
    /nat\/KUBE-SERVICES -> nat\/KUBE-SVC-\w+ -> nat\/KUBE-MARK-MASQ -> nat\/KUBE-SEP-/,
  );
  assert.match(result.stdout, /10\.180\.0\.1:8080 +50\.00%/);
  assert.match(result.stdout, /10\.180\.0\.2:8080 +50\.00%/);
  assert.match(result.stdout, /masqueraded/);
});

test('a malformed --dst is a usage error', () => {
  assert.throws(() => parsePacket('10.0.0.1', '172.30.0.41/tcp'), /is not IP:PORT\/PROTO/);
  assert.deepEqual(parsePacket('fd00::2', '[fd00::1]:443/UDP'), {
    protocol: 'udp',
    sourceIP: 'fd00::2',
    destinationIP: 'fd00::1',
    destinationPort: 443,
  });
});

test('open connections per endpoint are read from conntrack, DNATed ones only', () => {
  const listing = [
    'tcp      6 431999 ESTABLISHED src=10.0.0.2 dst=172.30.0.41 sport=40000 dport=80 src=10.180.0.1 dst=10.0.0.2 sport=8080 dport=40000 [ASSURED] mark=0 use=1',
    'tcp      6 431999 ESTABLISHED src=10.0.0.2 dst=172.30.0.41 sport=40001 dport=80 src=10.180.0.1 dst=10.0.0.2 sport=8080 dport=40001 [ASSURED] mark=0 use=1',
    'tcp      6 100 TIME_WAIT src=10.0.0.2 dst=10.0.0.9 sport=40002 dport=22 src=10.0.0.9 dst=10.0.0.2 sport=22 dport=40002 mark=0 use=1',
  ].join('\n');
  assert.deepEqual([...openConnectionsFromConntrack(listing)], [['10.180.0.1:8080', 2]]);
});
