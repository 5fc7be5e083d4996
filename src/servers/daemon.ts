import type { ProxyConfig } from '../config/load-config.js';
import type { ProxierLogger } from '../control/proxier.js';
import type { Dataplane } from '../dataplanes/dataplane.js';
import type { ProxyState } from '../model/proxy-state.js';
import type { SourceHandler } from '../sources/source.js';
import { connectionTotalsReader } from './connection-totals.js';
import { DaemonServers } from './daemon-servers.js';
import { healthCheckHosts } from './health-check-hosts.js';
import type { Stoppable, Supervision } from './lifecycle.js';
import { applyNodeSetup, isRoot } from './node-setup.js';
import { observeSourceEvents, reportSyncs } from './proxier-hooks.js';

export interface DaemonOptions {
  /** Started first thing in `run`, before the config file was read (see startSupervision). */
  readonly supervision: Supervision;
  /** The effective configuration, mode and flags applied. */
  readonly config: ProxyConfig;
  readonly nodeName: string;
  readonly syncPeriodMs: number;
  /** The data plane the proxier drives: its per-endpoint connection counts feed /metrics. */
  readonly dataplane: Dataplane;
  /** `--healthz-bind-address` / `--metrics-bind-address`, over the file's. */
  readonly healthzBindAddress?: string;
  readonly metricsBindAddress?: string;
}

/**
 * What `kproxy run` adds to the proxier to run as a node daemon: the node settings (as root),
 * /healthz + /livez, /metrics and the health-check node ports, fed by the source's events and
 * the proxier's syncs, and stopped with everything else on SIGTERM or a config change.
 */
export class Daemon {
  private constructor(
    private readonly supervision: Supervision,
    readonly servers: DaemonServers,
    private readonly nodeName: string,
  ) {}

  static async start(options: DaemonOptions): Promise<Daemon> {
    const { config } = options;
    if (isRoot()) await applyNodeSetup(nodeSetupOf(config));
    const servers = await DaemonServers.start({
      mode: config.mode,
      nodeName: options.nodeName,
      healthzBindAddress: options.healthzBindAddress ?? config.healthzBindAddress,
      metricsBindAddress: options.metricsBindAddress ?? config.metricsBindAddress,
      bindAddressHardFail: config.bindAddressHardFail,
      syncPeriodSeconds: options.syncPeriodMs / 1000,
      healthCheckHosts: healthCheckHosts({ nodePortAddresses: config.nodePortAddresses }),
      connectionTotals: connectionTotalsReader(options.dataplane, { mode: config.mode }),
      processMetrics: true,
    });
    options.supervision.lifecycle.join({ name: 'servers', stop: () => servers.stop() });
    return new Daemon(options.supervision, servers, options.nodeName);
  }

  /** The handler to give the source in place of the proxier itself. */
  observe(proxier: SourceHandler): SourceHandler {
    return observeSourceEvents(proxier, this.servers, this.nodeName);
  }

  /** The logger to give the proxier in place of `logger`. */
  reportSyncs(logger: ProxierLogger, state: () => ProxyState | undefined): ProxierLogger {
    return reportSyncs(logger, this.servers, state);
  }

  /** Stopped on the way out, before the parts that joined earlier. */
  join(part: Stoppable): void {
    this.supervision.lifecycle.join(part);
  }

  untilStopped(): Promise<void> {
    return this.supervision.untilStopped();
  }
}

/**
 * The node settings from the configuration. Conntrack matters only to the kernel modes (the
 * userspace mode opens its own connections), so it is left alone there, as is everything the
 * configuration sets to 0.
 */
function nodeSetupOf(config: ProxyConfig) {
  const seconds = (ms: number) => Math.floor(ms / 1000);
  const kernel = config.mode !== 'userspace';
  const { conntrack } = config;
  return {
    oomScoreAdj: config.oomScoreAdj,
    conntrack: {
      maxPerCore: kernel ? conntrack.maxPerCore : 0,
      min: conntrack.min,
      tcpEstablishedTimeoutSeconds: kernel ? seconds(conntrack.tcpEstablishedTimeout) : 0,
      tcpCloseWaitTimeoutSeconds: kernel ? seconds(conntrack.tcpCloseWaitTimeout) : 0,
      tcpBeLiberal: kernel && conntrack.tcpBeLiberal,
      udpTimeoutSeconds: kernel ? seconds(conntrack.udpTimeout) : 0,
      udpStreamTimeoutSeconds: kernel ? seconds(conntrack.udpStreamTimeout) : 0,
    },
  };
}
