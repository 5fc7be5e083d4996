/**
 * Creates the data plane for a proxy mode. Each mode registers how to build its data plane here;
 * a mode without one in this build is refused with the modes that are available.
 */
import type { ProxyConfig } from '../config/load-config.js';
import type { ProxyMode } from '../config/proxy-mode.js';
import { KproxyError } from '../errors.js';
import type { Dataplane } from './dataplane.js';
import { UserspaceDataplane } from './userspace/userspace-dataplane.js';

export interface DataplaneRequest {
  readonly mode: ProxyMode;
  readonly config: ProxyConfig;
  readonly nodeName: string;
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
  // Without root a cluster IP cannot be bound: each TCP service port gets a loopback port instead.
  userspace: ({ config }) => {
    const dataplane = new UserspaceDataplane({
      scheduler: config.ipvs.scheduler,
      listenAddress: () => ({ host: '127.0.0.1', port: 0 }),
    });
    return { dataplane, frontends: () => dataplane.frontends() };
  },
};

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
