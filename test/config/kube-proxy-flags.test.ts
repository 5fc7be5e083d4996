import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { ConfigError } from '../../src/config/config-error.js';
import {
  renderKubeProxyConfiguration,
  resolveEffectiveConfig,
  writeEffectiveConfig,
} from '../../src/config/effective-config.js';
import { registerKubeProxyFlags } from '../../src/config/kube-proxy-flags.js';
import { loadProxyConfig } from '../../src/config/load-config.js';
import { writeConfig } from './config-test-helpers.js';

const seed = fileURLToPath(new URL('fixtures/config.conf', import.meta.url));
const seedConfigMap = fileURLToPath(new URL('fixtures/configmap-ipvs-rr.yaml', import.meta.url));

/** Parses a command line the way `kproxy run` will: kube-proxy's flags on a commander command. */
function parseFlags(argv: string[]): Record<string, unknown> {
  const command = registerKubeProxyFlags(new Command('run').exitOverride());
  command.parse(argv, { from: 'user' });
  return command.opts();
}

function resolveArgs(argv: string[]) {
  return resolveEffectiveConfig({ flags: parseFlags(argv) });
}

describe("kube-proxy's flags over the configuration file", () => {
  it('flags win over the file: --proxy-mode and --ipvs-scheduler over the seed ConfigMap', () => {
    const { config } = resolveArgs([
      '--config',
      seedConfigMap,
      '--proxy-mode',
      'ipvs',
      '--ipvs-scheduler',
      'lc',
    ]);
    assert.equal(config.mode, 'ipvs');
    assert.equal(config.ipvs.scheduler, 'lc');
    assert.equal(config.clientConnection.kubeconfig, '/var/lib/kube-proxy/kubeconfig.conf');
  });

  const cases: [string[], (c: ReturnType<typeof resolveArgs>) => unknown, unknown][] = [
    [['--proxy-mode=nftables'], (r) => r.config.mode, 'nftables'],
    [['--cluster-cidr', '10.1.0.0/16'], (r) => r.config.clusterCIDR, '10.1.0.0/16'],
    [['--hostname-override', 'node-7'], (r) => r.config.hostnameOverride, 'node-7'],
    [['--healthz-bind-address', '127.0.0.1'], (r) => r.config.healthzBindAddress, '127.0.0.1:10256'],
    [['--metrics-bind-address', '0.0.0.0:9100'], (r) => r.config.metricsBindAddress, '0.0.0.0:9100'],
    [
      ['--nodeport-addresses', '10.0.0.0/8,192.168.0.0/16'],
      (r) => r.config.nodePortAddresses,
      ['10.0.0.0/8', '192.168.0.0/16'],
    ],
    [
      ['--masquerade-all'],
      (r) => [r.config.iptables.masqueradeAll, r.config.nftables.masqueradeAll],
      [true, true],
    ],
    [['--masquerade-all=false'], (r) => r.config.iptables.masqueradeAll, false],
    [['--v', '4'], (r) => r.config.logging.verbosity, 4],
    [['--v=2'], (r) => r.config.logging.verbosity, 2],
    [
      ['--iptables-sync-period', '10s', '--iptables-min-sync-period', '2s'],
      (r) => [r.config.iptables.syncPeriod, r.config.iptables.minSyncPeriod],
      [10_000, 2000],
    ],
    [
      ['--ipvs-sync-period', '1m', '--ipvs-min-sync-period', '5s'],
      (r) => [r.config.ipvs.syncPeriod, r.config.ipvs.minSyncPeriod],
      [60_000, 5000],
    ],
    [
      ['--iptables-masquerade-bit', '3'],
      (r) => [r.config.iptables.masqueradeBit, r.config.nftables.masqueradeBit],
      [3, 3],
    ],
    [['--kubeconfig', '/etc/kp.conf'], (r) => r.config.clientConnection.kubeconfig, '/etc/kp.conf'],
    [['--master', 'https://10.0.0.1:6443'], (r) => r.master, 'https://10.0.0.1:6443'],
    [['--cleanup'], (r) => r.cleanup, true],
    [['--cleanup=false'], (r) => r.cleanup, false],
    [[], (r) => r.cleanup, false],
    [['--write-config-to', '/tmp/x.yaml'], (r) => r.writeConfigTo, '/tmp/x.yaml'],
    [['--feature-gates', 'A=true,B=false'], (r) => r.config.featureGates, { A: true, B: false }],
    [['--vmodule', 'proxier=4'], (r) => r.config.logging.vmodule, [{ filePattern: 'proxier', verbosity: 4 }]],
    [['--conntrack-max-per-core', '0'], (r) => r.config.conntrack.maxPerCore, 0],
    [['--detect-local-mode', 'NodeCIDR'], (r) => r.config.detectLocalMode, 'NodeCIDR'],
    [['--oom-score-adj', '-500'], (r) => r.config.oomScoreAdj, -500],
    [
      ['--kube-api-qps', '20', '--kube-api-burst', '40'],
      (r) => [r.config.clientConnection.qps, r.config.clientConnection.burst],
      [20, 40],
    ],
    [['--config', seed, '--bind-address', '::'], (r) => r.config.metricsBindAddress, '[::1]:10249'],
  ];
  for (const [argv, read, expected] of cases) {
    it(`${argv.join(' ') || '(no flags)'} → ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(read(resolveArgs(['--config', seed, ...argv])), expected);
    });
  }

  it('without --config, flags and defaults make the configuration', () => {
    const { config, configPath } = resolveArgs(['--proxy-mode', 'userspace']);
    assert.equal(configPath, undefined);
    assert.equal(config.mode, 'userspace');
    assert.equal(config.iptables.syncPeriod, 30_000);
  });

  const rejected: [string[], string, RegExp][] = [
    [['--iptables-sync-period', '10'], 'flag --iptables-sync-period', /Go duration/],
    [['--iptables-masquerade-bit', '40'], 'flag --iptables-masquerade-bit', /\[0, 31\]/],
    [['--proxy-mode', 'kernelspace'], 'flag --proxy-mode', /iptables, nftables, ipvs, userspace/],
    [['--ipvs-scheduler', 'nope'], 'flag --ipvs-scheduler', /unknown IPVS scheduler "nope"/],
    [['--cluster-cidr', '10.0.0.0/8,10.1.0.0/16'], 'flag --cluster-cidr', /one CIDR per IP family/],
    [['--masquerade-all=maybe'], 'flag --masquerade-all', /true or false/],
    [['--v', '-1'], 'flag --v', /≥ 0/],
    [['--feature-gates', 'A'], 'flag --feature-gates', /Name=true\|false/],
    [['--healthz-bind-address', 'localhost:1'], 'flag --healthz-bind-address', /IP:port/],
    [['--cleanup=yes'], 'flag --cleanup', /true or false/],
  ];
  for (const [argv, where, message] of rejected) {
    it(`rejects ${argv.join(' ')}, naming the flag`, () => {
      assert.throws(
        () => resolveArgs(['--config', seed, ...argv]),
        (error: unknown) =>
          error instanceof ConfigError &&
          error.problems.length === 1 &&
          error.problems[0]?.where === where &&
          message.test(error.problems[0]?.message ?? ''),
      );
    });
  }

  it('every kube-proxy flag the design names is registered', () => {
    const command = registerKubeProxyFlags(new Command('run'));
    const names = command.options.map((option) => option.long);
    for (const name of [
      '--config',
      '--proxy-mode',
      '--ipvs-scheduler',
      '--cluster-cidr',
      '--hostname-override',
      '--healthz-bind-address',
      '--metrics-bind-address',
      '--nodeport-addresses',
      '--masquerade-all',
      '--cleanup',
      '--write-config-to',
      '--v',
      '--kubeconfig',
      '--master',
      '--iptables-sync-period',
      '--iptables-min-sync-period',
      '--ipvs-sync-period',
    ]) {
      assert.ok(names.includes(name), `${name} is missing`);
    }
  });
});

describe('--write-config-to', () => {
  it('writes the effective configuration, which loads back to the same configuration', () => {
    const flags = parseFlags([
      '--config',
      seed,
      '--proxy-mode',
      'ipvs',
      '--ipvs-scheduler',
      'sh',
      '--v',
      '3',
    ]);
    const { config } = resolveEffectiveConfig({ flags });
    const path = writeConfig('', 'effective.yaml');
    writeEffectiveConfig(config, path);
    const written = readFileSync(path, 'utf8');
    assert.match(written, /^kind: KubeProxyConfiguration$/m);
    assert.match(written, /^ {2}syncPeriod: 30s$/m);
    assert.deepEqual(loadProxyConfig(path), config);
  });

  it('the seed and its ConfigMap round-trip through the written form', () => {
    for (const file of [seed, seedConfigMap]) {
      const config = loadProxyConfig(file);
      const path = writeConfig(renderKubeProxyConfiguration(config));
      assert.deepEqual(loadProxyConfig(path), config);
    }
  });

  it('an unwritable path is a configuration error saying what to do', () => {
    assert.throws(
      () => writeEffectiveConfig(loadProxyConfig(seed), '/nonexistent-dir/x.yaml'),
      /--write-config-to \/nonexistent-dir\/x\.yaml: cannot write/,
    );
  });
});
