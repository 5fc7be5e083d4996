/**
 * Creates the data plane for a proxy mode. Each mode registers how to build its data plane here;
 * a mode without one in this build is refused with the modes that are available. Kernel data
 * planes delete the conntrack entries each sync makes stale, as kube-proxy does.
 */
import { execFileSync } from 'node:child_process';
import type { ProxyConfig } from '../config/load-config.js';
import type { ProxyMode } from '../config/proxy-mode.js';
import { KproxyError } from '../errors.js';
import { ConntrackCleaningDataplane } from './conntrack-cleanup.js';
import type { Dataplane } from './dataplane.js';
import { DualStackDataplane } from './dual-stack.js';
import { IptablesDataplane } from './iptables/iptables-dataplane.js';
import { iptablesHasRandomFully } from './iptables/top-level-rules.js';
import { IpvsNftablesDataplane } from './ipvs/ipvs-dataplane.js';
import { IpvsKernelDataplane } from './ipvs/ipvs-kernel-dataplane.js';
import { chooseIpvsDataplane, kernelHasIpvs, type Placement } from './ipvs-placement.js';
import { NftablesDataplane } from './nftables/nftables-dataplane.js';
import { renderOptionsFor } from './render-options.js';
import type { RenderOptions } from './rule-renderer.js';
import { type FrontendPlacement, UserspaceDataplane } from './userspace/userspace-dataplane.js';
import { UserspaceWorkerPool } from './userspace/worker-pool.js';

export interface DataplaneRequest {
  readonly mode: ProxyMode;
  readonly config: ProxyConfig;
  readonly nodeName: string;
  /** Userspace mode: where frontends listen; default `interface` as root, else `loopback`. */
  readonly userspaceFrontends?: FrontendPlacement;
  /** Userspace mode: proxy processes (`--userspace-workers`); 1, the default, proxies in this one. */
  readonly userspaceWorkers?: number;
  /** ipvs mode, `--ipvs-placement`: run every Service in IPVS, nftables or userspace, whatever the kernel has. */
  readonly ipvsPlacement?: Placement;
}

/** A data plane, and where its frontends listen when they are sockets of ours (userspace mode). */
export interface CreatedDataplane {
  readonly dataplane: Dataplane;
  readonly frontends?: () => readonly {
    readonly servicePortId: string;
    readonly address: { host: string; port: number };
  }[];
}

type DataplaneFactory = (request: DataplaneRequest) => CreatedDataplane;

const factories: Partial<Record<ProxyMode, DataplaneFactory>> = {
  // As root the frontends listen on the Service addresses themselves (on kube-ipvs0, as ipvs mode
  // puts them); without root, or when asked, on loopback ports, whose mapping `run` prints.
  // With more than one worker, that many processes share the listening sockets (worker-pool.ts).
  userspace: ({ config, userspaceFrontends, userspaceWorkers = 1 }) => {
    const options = {
      scheduler: config.ipvs.scheduler,
      frontendAddresses: userspaceFrontends,
      tcpTimeout: config.ipvs.tcpTimeout,
      tcpFinTimeout: config.ipvs.tcpFinTimeout,
      udpTimeout: config.ipvs.udpTimeout,
      nodePortAddresses: config.nodePortAddresses,
      nodeIPs: bothFamilies(config).flatMap((render) => render.nodeIPs),
    };
    const dataplane =
      userspaceWorkers > 1
        ? new UserspaceWorkerPool({ ...options, workers: userspaceWorkers })
        : new UserspaceDataplane(options);
    return { dataplane, frontends: () => dataplane.frontends() };
  },
  iptables: ({ config }) => {
    const masqueradeRandomFully = iptablesHasRandomFully(iptablesVersion());
    const inner = new IptablesDataplane({
      families: bothFamilies(config).map((family) => ({ ...family, masqueradeRandomFully })),
      wait: true,
      syncPeriodMs: config.iptables.syncPeriod,
    });
    return { dataplane: new ConntrackCleaningDataplane(inner) };
  },
  nftables: ({ config }) => ({
    dataplane: new ConntrackCleaningDataplane(
      new DualStackDataplane(bothFamilies(config).map((render) => new NftablesDataplane({ render }))),
    ),
  }),
  ipvs: ({ config, ipvsPlacement }) => {
    const ipvsAvailable = kernelHasIpvs();
    if (chooseIpvsDataplane({ ipvsAvailable, force: ipvsPlacement }) === 'ipvs') {
      return {
        dataplane: new ConntrackCleaningDataplane(
          new DualStackDataplane(
            bothFamilies(config).map(
              (render) => new IpvsKernelDataplane({ render, forced: !ipvsAvailable, settings: config.ipvs }),
            ),
          ),
        ),
      };
    }
    return {
      dataplane: new ConntrackCleaningDataplane(
        new DualStackDataplane(
          bothFamilies(config).map(
            (render) =>
              new IpvsNftablesDataplane({
                render,
                force: ipvsPlacement,
                // Services whose scheduler needs connection counts are proxied here, on the node's address.
                userspace: new UserspaceDataplane({
                  scheduler: render.ipvsScheduler,
                  listenAddress: () => ({ host: render.nodeIPs[0] ?? loopbackOf(render), port: 0 }),
                }),
              }),
          ),
        ),
      ),
    };
  },
};

/** kube-proxy runs dual-stack whenever the kernel has both families' tools: one data plane each. */
function bothFamilies(config: ProxyConfig): RenderOptions[] {
  return [renderOptionsFor({ config, family: 'IPv4' }), renderOptionsFor({ config, family: 'IPv6' })];
}

/** `iptables --version` of this host, or '' when it cannot be run (then no `--random-fully`, like kube-proxy). */
function iptablesVersion(): string {
  try {
    return execFileSync('iptables', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return '';
  }
}

function loopbackOf(render: RenderOptions): string {
  return render.ipFamily === 'IPv6' ? '::1' : '127.0.0.1';
}

export function availableModes(): ProxyMode[] {
  return Object.keys(factories) as ProxyMode[];
}

export function createDataplane(request: DataplaneRequest): CreatedDataplane {
  const factory = factories[request.mode];
  if (!factory) {
    throw new KproxyError(
      'KPROXY_E_UNKNOWN_MODE',
      `the ${request.mode} data plane is not part of this build`,
      {
        hint: `use --proxy-mode ${availableModes().join(' or ')}`,
      },
    );
  }
  return factory(request);
}
