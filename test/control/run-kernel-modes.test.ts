import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { kernelTestOptions } from '../dataplanes/nftables/netns-lab.js';

const KPROXY = fileURLToPath(new URL('../../bin/kproxy.js', import.meta.url));
const CONFIG = fileURLToPath(new URL('../cli/fixtures/configmap-ipvs-rr.yaml', import.meta.url));
const MANIFEST = fileURLToPath(new URL('../../examples/seed/nginx.yaml', import.meta.url));

function inNamespace(netns: string, args: readonly string[]): string {
  return execFileSync('ip', ['netns', 'exec', netns, ...args], { encoding: 'utf8' });
}

/** Starts `kproxy run` in the namespace and resolves once its first sync is complete. */
function startRun(netns: string, mode: string): Promise<ChildProcess> {
  const args = [
    'netns',
    'exec',
    netns,
    process.execPath,
    KPROXY,
    'run',
    '--config',
    CONFIG,
    '--proxy-mode',
    mode,
  ];
  const child = spawn('ip', [
    ...args,
    '--manifests',
    MANIFEST,
    '--hostname-override',
    'worker01',
    '--v',
    '2',
  ]);
  return new Promise((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no sync within 20 s:\n${log}`));
    }, 20_000);
    child.stderr.on('data', (chunk) => {
      log += chunk;
      if (log.includes('SyncProxyRules complete')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once('exit', (code) => reject(new Error(`kproxy run exited with ${code}:\n${log}`)));
  });
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

/** What each mode leaves in the kernel for the seed's Service (cluster IP 10.96.240.17). */
const kernelRules: Record<string, (netns: string) => string> = {
  iptables: (netns) => inNamespace(netns, ['iptables-save', '-t', 'nat']),
  nftables: (netns) => inNamespace(netns, ['nft', 'list', 'ruleset']),
  ipvs: (netns) => inNamespace(netns, ['nft', 'list', 'ruleset']),
};

describe('kproxy run programs the kernel in each mode, keeps the rules on SIGTERM, and --cleanup removes them', () => {
  for (const mode of Object.keys(kernelRules)) {
    it(mode, kernelTestOptions(), async () => {
      const netns = `kp-run-${mode}-${process.pid}`;
      execFileSync('ip', ['netns', 'add', netns]);
      try {
        inNamespace(netns, ['ip', 'link', 'set', 'lo', 'up']);
        const read = kernelRules[mode] ?? (() => '');
        assert.equal(await stop(await startRun(netns, mode)), 0);
        assert.match(read(netns), /10\.96\.240\.17/, 'the Service is programmed and stays after SIGTERM');
        inNamespace(netns, [process.execPath, KPROXY, 'run', '--cleanup']);
        assert.doesNotMatch(read(netns), /10\.96\.240\.17|KUBE-|kproxy/);
      } finally {
        execFileSync('ip', ['netns', 'del', netns]);
      }
    });
  }
});

describe('kproxy run in userspace mode, as root', () => {
  it(
    'puts the cluster IP on kube-ipvs0, listens on it and forwards to a pod',
    kernelTestOptions(),
    async () => {
      const netns = `kp-run-userspace-${process.pid}`;
      execFileSync('ip', ['netns', 'add', netns]);
      const pods: ChildProcess[] = [];
      try {
        inNamespace(netns, ['ip', 'link', 'set', 'lo', 'up']);
        // The seed's three pods, as addresses of this namespace, each answering with its address.
        for (const ip of ['10.0.5.7', '10.0.30.66', '10.0.5.8']) {
          inNamespace(netns, ['ip', 'addr', 'add', `${ip}/32`, 'dev', 'lo']);
          const server = `require('node:net').createServer((s) => s.end('${ip}')).listen(80, '${ip}')`;
          pods.push(spawn('ip', ['netns', 'exec', netns, process.execPath, '-e', server]));
        }
        const run = await startRun(netns, 'userspace');
        try {
          assert.match(
            inNamespace(netns, ['ip', '-o', 'addr', 'show', 'dev', 'kube-ipvs0']),
            /10\.96\.240\.17/,
          );
          const client = `require('node:net').connect(80, '10.96.240.17').on('data', (d) => process.stdout.write(d)).on('error', (e) => process.stdout.write(e.code))`;
          const answers = [1, 2, 3].map(() => inNamespace(netns, [process.execPath, '-e', client]));
          assert.deepEqual(answers.sort(), ['10.0.30.66', '10.0.5.7', '10.0.5.8'], 'rr over the three pods');
        } finally {
          await stop(run);
        }
      } finally {
        for (const pod of pods) pod.kill();
        execFileSync('ip', ['netns', 'del', netns]);
      }
    },
  );
});
