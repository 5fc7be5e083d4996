import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { kernelTestOptions, NetnsLab, tally } from '../dataplanes/nftables/netns-lab.js';

const kproxy = fileURLToPath(new URL('../../bin/kproxy.js', import.meta.url));
const loadClient = fileURLToPath(new URL('./load-client.ts', import.meta.url));
const pods = ['10.1.0.1', '10.1.0.2', '10.1.0.3'];

// conntrack.maxPerCore 0 leaves the (host-wide) conntrack table size alone.
const config = `apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clusterCIDR: 10.1.0.0/16
conntrack:
  maxPerCore: 0
`;

const manifest = `apiVersion: v1
kind: Service
metadata: { name: web, namespace: ns1 }
spec:
  clusterIP: 172.30.0.40
  ports: [{ name: http, port: 80, protocol: TCP }]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: web-1, namespace: ns1, labels: { kubernetes.io/service-name: web } }
addressType: IPv4
ports: [{ name: http, port: 8080, protocol: TCP }]
endpoints:
${pods.map((ip) => `  - addresses: [${ip}]`).join('\n')}
`;

function inNetns(netns: string, args: string[]): ChildProcess {
  return spawn('ip', ['netns', 'exec', netns, process.execPath, '--import', 'tsx', ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
}

/** Starts `kproxy run` in the node namespace and resolves once its first sync is complete. */
async function startProxy(
  netns: string,
  mode: string,
  files: string,
): Promise<{ child: ChildProcess; exited: Promise<number | null> }> {
  const args = ['run', '--config', join(files, 'config.yaml'), '--manifests', join(files, 'web.yaml')];
  const child = spawn(
    'ip',
    ['netns', 'exec', netns, process.execPath, kproxy, ...args, '--proxy-mode', mode, '--v', '2'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    let log = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes('SyncProxyRules complete')) resolve();
    });
    void exited.then((code) => reject(new Error(`kproxy run exited ${code} before its first sync:\n${log}`)));
  });
  return { child, exited };
}

/** Connections streaming from the client namespace, one result per line. */
function startLoad(lab: NetnsLab) {
  const job = {
    host: '172.30.0.40',
    port: 80,
    sources: lab.clientIPs.slice(0, 4),
    // Below TCP's 1 s SYN retransmission: a connection that met no rules fails instead of retrying.
    timeoutMs: 500,
    maxCount: 20_000,
  };
  const child = inNetns(lab.client, [loadClient, JSON.stringify(job)]);
  const results: string[] = [];
  let partial = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    results.push(...lines);
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const reach = async (count: number) => {
    const deadline = Date.now() + 30_000;
    while (results.length < count) {
      if (Date.now() > deadline) throw new Error(`only ${results.length} of ${count} connections in 30 s`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  return { child, results, exited, reach };
}

for (const mode of ['iptables', 'nftables']) {
  describe(`a restart under load loses no connection (${mode} mode)`, kernelTestOptions(), () => {
    const lab = new NetnsLab(`rst${mode.slice(0, 2)}`);
    const files = mkdtempSync(join(tmpdir(), 'kproxy-restart-'));
    before(async () => {
      writeFileSync(join(files, 'config.yaml'), config);
      writeFileSync(join(files, 'web.yaml'), manifest);
      lab.create();
      await lab.startPods(pods, 8080);
    });
    after(() => {
      lab.destroy();
      rmSync(files, { recursive: true, force: true });
    });

    it('kproxy run: SIGTERM leaves the rules; connections go on while no proxy runs and while the next one syncs', async () => {
      const first = await startProxy(lab.node, mode, files);
      const load = startLoad(lab);
      let second: Awaited<ReturnType<typeof startProxy>> | undefined;
      let duringRestart = 0;
      try {
        await load.reach(200);
        const atStop = load.results.length;
        first.child.kill('SIGTERM');
        assert.equal(await first.exited, 0, 'the first proxy stopped cleanly');
        second = await startProxy(lab.node, mode, files);
        duringRestart = load.results.length - atStop;
        await load.reach(load.results.length + 200);
        load.child.stdin?.end();
        await load.exited;
      } finally {
        for (const child of [first.child, second?.child, load.child]) child?.kill('SIGKILL');
      }

      assert.ok(
        duringRestart > 0,
        'no connection ran between the stop and the next sync: the test proved nothing',
      );
      const counts = tally(load.results);
      const failures = Object.keys(counts).filter((answer) => !pods.some((pod) => answer === `${pod}:8080`));
      assert.deepEqual(failures, [], `failed connections: ${JSON.stringify(counts)}`);
      for (const pod of pods) assert.ok((counts[`${pod}:8080`] ?? 0) > 0, `${pod} got no connection`);
    });
  });
}
