import { hostname } from 'node:os';
import type { Command } from 'commander';
import { resolveEffectiveConfig, writeEffectiveConfig } from '../config/effective-config.js';
import { registerKubeProxyFlags } from '../config/kube-proxy-flags.js';
import type { ProxyConfig } from '../config/load-config.js';
import { Proxier, type ProxierLogger } from '../control/proxier.js';
import { cleanupProxyState } from '../dataplanes/cleanup-everything.js';
import { type CreatedDataplane, createDataplane } from '../dataplanes/factory.js';
import type { Placement } from '../dataplanes/ipvs-placement.js';
import type { FrontendPlacement } from '../dataplanes/userspace/userspace-dataplane.js';
import { KproxyError } from '../errors.js';
import { log, setVerbosity } from '../log.js';
import type { ProxyState } from '../model/proxy-state.js';
import { Daemon } from '../servers/daemon.js';
import { type Supervision, startSupervision } from '../servers/lifecycle.js';
import { ManifestSource } from '../sources/manifest-source.js';
import type { ObjectSource } from '../sources/source.js';

/** Flags of `run` beyond kube-proxy's own (which registerKubeProxyFlags adds). */
interface RunFlags extends Record<string, unknown> {
  readonly config?: string;
  readonly manifests?: string[];
  readonly kubeconfig?: string;
  readonly master?: string;
  readonly cleanup?: unknown;
  readonly writeConfigTo?: string;
  readonly userspaceFrontends?: string;
  readonly userspaceWorkers?: string;
  readonly ipvsPlacement?: string;
}

/** What `run` needs from the effective configuration (the file with kube-proxy's flags over it). */
interface RunSettings {
  readonly config: ProxyConfig;
  readonly nodeName: string;
  readonly minSyncPeriodMs: number;
  readonly syncPeriodMs: number;
  readonly userspaceFrontends?: FrontendPlacement;
  readonly userspaceWorkers: number;
  readonly ipvsPlacement?: Placement;
}

export function registerRun(program: Command): void {
  const command = program
    .command('run')
    .description('run the proxy: watch Services and EndpointSlices and program the data plane')
    .option('--manifests <path...>', 'manifest files or directories, watched (instead of a cluster)')
    .option(
      '--userspace-frontends <where>',
      'userspace mode: listen on the Service addresses, put on kube-ipvs0 ("interface", the default as root) ' +
        'or on free loopback ports, printed ("loopback", the default otherwise)',
    )
    .option(
      '--userspace-workers <n>',
      'userspace mode: proxy processes sharing the listening sockets (default 1: this process proxies; ' +
        'one suits long-lived connections, about one per core suits many short ones: docs/userspace.md)',
    )
    .option(
      '--ipvs-placement <where>',
      'ipvs mode: run every Service in "ipvs" (the kernel\'s IPVS), "nftables" or "userspace", ' +
        'instead of IPVS where the kernel has it and nftables or userspace where it has not',
    );
  registerKubeProxyFlags(command).action(async (flags: RunFlags) => {
    if (flags.cleanup !== undefined || flags.writeConfigTo !== undefined) return runOnce(flags);
    if (flags.config === undefined) {
      throw new KproxyError('KPROXY_E_USAGE', 'kproxy run needs --config FILE', {
        hint: 'pass a KubeProxyConfiguration or the kube-proxy ConfigMap (examples/config/ has some)',
      });
    }
    // First, so that no change to the config file after it is read goes unnoticed.
    const supervision = await startSupervision({ configPath: flags.config });
    const settings = resolveRunSettings(flags);
    await runProxy(settings, await sourceFor(flags, settings), supervision);
  });
}

/** `--write-config-to` and `--cleanup`: do that one thing, then exit, as kube-proxy does. */
async function runOnce(flags: RunFlags): Promise<void> {
  const effective = resolveEffectiveConfig({ flags });
  if (effective.writeConfigTo !== undefined) {
    writeEffectiveConfig(effective.config, effective.writeConfigTo);
    return;
  }
  if (effective.cleanup) await removeRules();
}

function resolveRunSettings(flags: RunFlags): RunSettings {
  const { config } = resolveEffectiveConfig({ flags });
  setVerbosity(config.logging.verbosity);
  const periods = syncPeriodsOf(config);
  return {
    config,
    nodeName: (config.hostnameOverride.trim() || hostname()).toLowerCase(),
    minSyncPeriodMs: periods.minSyncPeriod,
    syncPeriodMs: periods.syncPeriod,
    userspaceFrontends: userspaceFrontendsOf(flags.userspaceFrontends),
    userspaceWorkers: userspaceWorkersOf(flags.userspaceWorkers),
    ipvsPlacement: ipvsPlacementOf(flags.ipvsPlacement),
  };
}

function userspaceWorkersOf(value: string | undefined): number {
  if (value === undefined) return 1;
  const workers = Number(value);
  if (Number.isInteger(workers) && workers >= 1 && workers <= 64) return workers;
  throw new KproxyError(
    'KPROXY_E_USAGE',
    `--userspace-workers: "${value}" is not a whole number from 1 to 64`,
    {
      hint: 'one worker per core is the most that helps; 1 proxies in the kproxy process itself',
    },
  );
}

function userspaceFrontendsOf(value: string | undefined): FrontendPlacement | undefined {
  if (value === undefined || value === 'interface' || value === 'loopback') return value;
  throw new KproxyError(
    'KPROXY_E_USAGE',
    `--userspace-frontends: "${value}" is neither interface nor loopback`,
    {
      hint: 'interface listens on the Service addresses (root); loopback on free loopback ports',
    },
  );
}

function ipvsPlacementOf(value: string | undefined): Placement | undefined {
  if (value === undefined || value === 'ipvs' || value === 'nftables' || value === 'userspace') return value;
  throw new KproxyError('KPROXY_E_USAGE', `--ipvs-placement: "${value}" is not ipvs, nftables or userspace`, {
    hint: "ipvs programs the kernel's IPVS; nftables runs rr, wrr, sh, dh and mh in nftables; userspace proxies",
  });
}

/** The mode's sync periods; userspace mode, like kube-proxy's old one, uses the iptables section's. */
function syncPeriodsOf(config: ProxyConfig): { minSyncPeriod: number; syncPeriod: number } {
  if (config.mode === 'ipvs') return config.ipvs;
  if (config.mode === 'nftables') return config.nftables;
  return config.iptables;
}

async function sourceFor(flags: RunFlags, settings: RunSettings): Promise<ObjectSource> {
  const fromApiFlags = flags.kubeconfig !== undefined || flags.master !== undefined;
  if (flags.manifests && fromApiFlags) {
    throw new KproxyError('KPROXY_E_USAGE', '--manifests cannot be combined with --kubeconfig or --master', {
      hint: 'watch either manifest files or a cluster',
    });
  }
  if (flags.manifests) return new ManifestSource({ paths: flags.manifests, watch: true });
  const kubeconfig = settings.config.clientConnection.kubeconfig || undefined;
  if (!fromApiFlags && !kubeconfig && !process.env.KUBERNETES_SERVICE_HOST) {
    throw new KproxyError(
      'KPROXY_E_USAGE',
      'no source: not in a cluster and no --manifests, --kubeconfig or --master',
      {
        hint: 'pass --manifests DIR to run on this machine, or --kubeconfig FILE for a cluster',
      },
    );
  }
  // Loaded only when used: the Kubernetes client alone adds over 100 MiB to the process.
  const { KubeApiSource } = await import('../sources/kube-api-source.js');
  return new KubeApiSource({ kubeconfig, master: flags.master, nodeName: settings.nodeName });
}

async function runProxy(
  settings: RunSettings,
  source: ObjectSource,
  supervision: Supervision,
): Promise<void> {
  const { config, nodeName } = settings;
  log.info('server_linux.go', `Using ${config.mode} Proxier`, { nodeName });
  const created = createDataplane({
    mode: config.mode,
    config,
    nodeName,
    userspaceFrontends: settings.userspaceFrontends,
    userspaceWorkers: settings.userspaceWorkers,
    ipvsPlacement: settings.ipvsPlacement,
  });
  const daemon = await Daemon.start({
    supervision,
    config,
    nodeName,
    syncPeriodMs: settings.syncPeriodMs,
    dataplane: created.dataplane,
  });
  // The userspace mode's "rules" are its own sockets, which end with the process anyway: close
  // them so it can. The kernel modes' rules stay, and traffic flows through them meanwhile.
  if (config.mode === 'userspace')
    daemon.join({ name: 'userspace data plane', stop: () => created.dataplane.cleanup() });
  const proxier = new Proxier({
    nodeName,
    dataplane: created.dataplane,
    minSyncPeriodMs: settings.minSyncPeriodMs,
    syncPeriodMs: settings.syncPeriodMs,
    logger: daemon.reportSyncs(
      klogProxierLogger(created, () => proxier.state),
      () => proxier.state,
    ),
  });
  daemon.join({ name: 'proxier', stop: () => proxier.stop() });
  log.info('config.go', 'Starting source', { source: source.description });
  proxier.start();
  daemon.join({ name: 'source', stop: () => source.stop() });
  try {
    await source.start(daemon.observe(proxier));
  } catch (error) {
    // Stop what already runs (servers, sync loop), or the process would never end.
    await supervision.lifecycle.stop({ kind: 'failed', error: String(error) });
    throw error;
  }
  await daemon.untilStopped();
}

/** `--cleanup`, as kube-proxy's: remove every mode's rules (kproxy's and kube-proxy's), then exit. */
async function removeRules(): Promise<void> {
  const report = await cleanupProxyState();
  log.info('server.go', 'Removed the rules', {
    iptablesChains: report.iptablesChains,
    nftTables: report.nftTables.join(',') || 'none',
    links: report.links.join(',') || 'none',
    ipsets: report.ipsets.join(',') || 'none',
    virtualServers: report.virtualServers.length,
  });
}

function klogProxierLogger(created: CreatedDataplane, state: () => ProxyState | undefined): ProxierLogger {
  let printed = '';
  return {
    problem: (error) => log.error('config.go', error.message, { hint: error.hint }),
    syncFailed: (failures) => {
      for (const [servicePort, error] of failures)
        log.error('proxier.go', 'Failed to sync', { servicePort, error: error.message });
    },
    synced: ({ servicePorts, changed, full, elapsedMs }) => {
      log.info(
        'proxier.go',
        'SyncProxyRules complete',
        { elapsed: `${elapsedMs.toFixed(1)}ms`, servicePorts, changed, full },
        2,
      );
      const mapping = (created.frontends?.() ?? [])
        .map(({ servicePortId, address }) => {
          const port = state()?.servicePorts.get(servicePortId);
          const clusterIPs = port?.clusterIPs.map((ip) => (ip.includes(':') ? `[${ip}]` : ip)) ?? [];
          const frontend = clusterIPs.map((ip) => `${ip}:${port?.port}`).join(',');
          return `${servicePortId} ${frontend} -> ${address.host}:${address.port}`;
        })
        .sort()
        .join('\n');
      if (mapping !== printed) console.log(`frontends:\n${mapping || '(none)'}`);
      printed = mapping;
    },
  };
}
