import { hostname } from 'node:os';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { loadProxyConfig, type ProxyConfig } from '../config/load-config.js';
import { resolveProxyMode } from '../config/proxy-mode.js';
import { Proxier, type ProxierLogger } from '../control/proxier.js';
import { type CreatedDataplane, createDataplane } from '../dataplanes/factory.js';
import { KproxyError } from '../errors.js';
import { log, setVerbosity } from '../log.js';
import type { ProxyState } from '../model/proxy-state.js';
import { Daemon } from '../servers/daemon.js';
import { type Supervision, startSupervision } from '../servers/lifecycle.js';
import { ManifestSource } from '../sources/manifest-source.js';
import type { ObjectSource } from '../sources/source.js';

interface RunFlags {
  config: string;
  manifests?: string[];
  kubeconfig?: string;
  master?: string;
  proxyMode?: string;
  hostnameOverride?: string;
  healthzBindAddress?: string;
  metricsBindAddress?: string;
  cleanup?: boolean;
  v: number;
}

/** What `run` needs from the configuration and kube-proxy's flags, flags winning over the file. */
interface RunSettings {
  readonly config: ProxyConfig;
  readonly nodeName: string;
  readonly minSyncPeriodMs: number;
  readonly syncPeriodMs: number;
}

export function registerRun(program: Command): void {
  const command = program
    .command('run')
    .description('run the proxy: watch Services and EndpointSlices and program the data plane')
    .option('--manifests <path...>', 'manifest files or directories, watched (instead of a cluster)');
  registerRunFlags(command).action(async (flags: RunFlags) => {
    setVerbosity(flags.v);
    if (flags.cleanup) return removeRules(resolveRunSettings(flags));
    // First, so that no change to the config file after it is read goes unnoticed.
    const supervision = await startSupervision({ configPath: flags.config });
    const settings = resolveRunSettings(flags);
    await runProxy(settings, await sourceFor(flags, settings.nodeName), { supervision, flags });
  });
}

/**
 * The kube-proxy flags `run` reads. This function and resolveRunSettings are the two places to
 * swap for the complete flag set (registerKubeProxyFlags / resolveEffectiveConfig).
 */
function registerRunFlags(command: Command): Command {
  return command
    .requiredOption('--config <file>', 'KubeProxyConfiguration file or kube-proxy ConfigMap')
    .option('--kubeconfig <file>', 'kubeconfig of the cluster to watch')
    .option('--master <url>', 'API server URL (overrides the kubeconfig)')
    .option('--proxy-mode <mode>', 'iptables, nftables, ipvs or userspace (overrides mode:)')
    .option('--hostname-override <name>', 'the name of this node (overrides hostnameOverride:)')
    .option('--healthz-bind-address <ip:port>', '/healthz and /livez (overrides healthzBindAddress:)')
    .option('--metrics-bind-address <ip:port>', '/metrics (overrides metricsBindAddress:)')
    .option('--cleanup', "remove the mode's rules, then exit (on SIGTERM the rules stay)")
    .option('--v <level>', 'log verbosity (0-10)', verbosityLevel, 0);
}

/** The configuration file with kube-proxy's flags applied on top (kept in one place on purpose). */
function resolveRunSettings(flags: RunFlags): RunSettings {
  const loaded = loadProxyConfig(flags.config);
  const mode =
    flags.proxyMode === undefined ? loaded.mode : resolveProxyMode(flags.proxyMode, '--proxy-mode');
  const fromFile = loaded as ProxyConfig & { hostnameOverride?: unknown };
  const override =
    flags.hostnameOverride ??
    (typeof fromFile.hostnameOverride === 'string' ? fromFile.hostnameOverride : '');
  return {
    config: { ...loaded, mode },
    nodeName: (override.trim() || hostname()).toLowerCase(),
    ...syncPeriodsOf(loaded, mode),
  };
}

/**
 * The mode's `syncPeriod` and `minSyncPeriod` (milliseconds, as the complete configuration holds
 * them), or kube-proxy's defaults, 30s and 1s, when the configuration does not carry them.
 */
function syncPeriodsOf(config: ProxyConfig, mode: ProxyConfig['mode']) {
  type Periods = { syncPeriod?: unknown; minSyncPeriod?: unknown } | undefined;
  const sections = config as unknown as Record<string, Periods>;
  const section = sections[mode === 'ipvs' || mode === 'nftables' ? mode : 'iptables'];
  const minSync = section?.minSyncPeriod;
  const sync = section?.syncPeriod;
  return {
    minSyncPeriodMs: typeof minSync === 'number' && minSync >= 0 ? minSync : 1000,
    syncPeriodMs: typeof sync === 'number' && sync > 0 ? sync : 30_000,
  };
}

async function sourceFor(flags: RunFlags, nodeName: string): Promise<ObjectSource> {
  const fromApi = flags.kubeconfig !== undefined || flags.master !== undefined;
  if (flags.manifests && fromApi) {
    throw new KproxyError('KPROXY_E_USAGE', '--manifests cannot be combined with --kubeconfig or --master', {
      hint: 'watch either manifest files or a cluster',
    });
  }
  if (flags.manifests) return new ManifestSource({ paths: flags.manifests, watch: true });
  if (!fromApi && !process.env.KUBERNETES_SERVICE_HOST) {
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
  return new KubeApiSource({ kubeconfig: flags.kubeconfig, master: flags.master, nodeName });
}

async function runProxy(
  settings: RunSettings,
  source: ObjectSource,
  { supervision, flags }: { supervision: Supervision; flags: RunFlags },
): Promise<void> {
  const { config, nodeName } = settings;
  log.info('server_linux.go', `Using ${config.mode} Proxier`, { nodeName });
  const created = createDataplane({ mode: config.mode, config, nodeName });
  const daemon = await Daemon.start({
    supervision,
    config,
    nodeName,
    syncPeriodMs: settings.syncPeriodMs,
    dataplane: created.dataplane,
    healthzBindAddress: flags.healthzBindAddress,
    metricsBindAddress: flags.metricsBindAddress,
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

/** `--cleanup`, as kube-proxy's for the configured mode: remove its rules, then exit. */
async function removeRules(settings: RunSettings): Promise<void> {
  const { config, nodeName } = settings;
  await createDataplane({ mode: config.mode, config, nodeName }).dataplane.cleanup();
  log.info('server.go', 'Removed the rules', { mode: config.mode });
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

function verbosityLevel(text: string): number {
  const level = Number(text);
  if (!Number.isInteger(level) || level < 0 || level > 10)
    throw new InvalidArgumentError(`"${text}" is not a level from 0 to 10.`);
  return level;
}
