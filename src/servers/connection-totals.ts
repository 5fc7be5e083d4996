import type { Dataplane } from '../dataplanes/dataplane.js';
import { IptablesApplier } from '../dataplanes/iptables/applier.js';
import { endpointCountsFromSave } from '../dataplanes/iptables/endpoint-counters.js';
import { type BackendCounters, backendCounters } from '../dataplanes/userspace/backend.js';
import { UserspaceDataplane } from '../dataplanes/userspace/userspace-dataplane.js';
import { UserspaceWorkerPool } from '../dataplanes/userspace/worker-pool.js';
import type { ConnectionTotal } from './endpoint-connection-metrics.js';

/** Reads every endpoint's cumulative connection count from a running data plane. */
export type ConnectionTotalsReader = () => Promise<ConnectionTotal[]>;

/**
 * Where a data plane's per-endpoint connection counts come from: the userspace proxy counts its
 * own connections; in iptables mode each KUBE-SEP chain's DNAT rule counts the first packet of
 * every connection it sends (`iptables-save -c`). Other modes keep no per-endpoint count:
 * undefined, and the series stay empty.
 */
export function connectionTotalsReader(
  dataplane: Dataplane,
  options: { readonly mode: string; readonly netns?: string },
): ConnectionTotalsReader | undefined {
  if (dataplane instanceof UserspaceDataplane) {
    return async () =>
      userspaceTotals(dataplane, (servicePortId) => dataplane.backends(servicePortId).map(backendCounters));
  }
  if (dataplane instanceof UserspaceWorkerPool) {
    return async () => {
      await dataplane.collectCounters();
      return userspaceTotals(dataplane, (servicePortId) => dataplane.backends(servicePortId));
    };
  }
  if (options.mode === 'iptables') return () => iptablesTotals(options.netns);
  return undefined;
}

function userspaceTotals(
  dataplane: { frontends(): readonly { readonly servicePortId: string }[] },
  backendsOf: (servicePortId: string) => readonly BackendCounters[],
): ConnectionTotal[] {
  const servicePorts = new Set(dataplane.frontends().map((frontend) => frontend.servicePortId));
  return [...servicePorts].flatMap((servicePortId) =>
    backendsOf(servicePortId).map((backend) => ({
      servicePort: servicePortId,
      endpoint: backend.endpoint,
      total: backend.connections,
    })),
  );
}

async function iptablesTotals(netns: string | undefined): Promise<ConnectionTotal[]> {
  const totals: ConnectionTotal[] = [];
  for (const family of ['IPv4', 'IPv6'] as const) {
    const applier = new IptablesApplier({ family, netns });
    // A node without IPv6 has no ip6tables nat table: that family simply counts nothing.
    const saved = await applier.save({ table: 'nat', counters: true }).catch(() => '');
    for (const count of endpointCountsFromSave(saved)) {
      totals.push({ servicePort: count.servicePort, endpoint: count.endpoint, total: count.connections });
    }
  }
  return totals;
}
