import type { BackendCounters } from './backend.js';
import type { ServicePortCounters } from './worker-protocol.js';

/** A dead worker's counters: its cumulative counts stay, its connections are gone. */
export function closedOnly(counters: ServicePortCounters): ServicePortCounters {
  const closed = (backends: readonly BackendCounters[]) =>
    backends.map((backend) => ({ ...backend, activeConns: 0, inactiveConns: 0 }));
  return { cluster: closed(counters.cluster), external: closed(counters.external) };
}

/** Sums each service port's counters over the workers' lists, endpoint by endpoint. */
export function sumCounters(
  lists: readonly (readonly (readonly [string, ServicePortCounters])[])[],
): Map<string, ServicePortCounters> {
  const sums = new Map<string, ServicePortCounters>();
  for (const list of lists) {
    for (const [id, counters] of list) {
      const sum = sums.get(id);
      sums.set(
        id,
        sum
          ? {
              cluster: addCounters(sum.cluster, counters.cluster),
              external: addCounters(sum.external, counters.external),
            }
          : counters,
      );
    }
  }
  return sums;
}

function addCounters(a: readonly BackendCounters[], b: readonly BackendCounters[]): BackendCounters[] {
  const byEndpoint = new Map(a.map((counters) => [counters.endpoint, { ...counters }]));
  for (const counters of b) {
    const sum = byEndpoint.get(counters.endpoint);
    if (!sum) {
      byEndpoint.set(counters.endpoint, { ...counters });
      continue;
    }
    byEndpoint.set(counters.endpoint, {
      ...sum,
      connections: sum.connections + counters.connections,
      activeConns: sum.activeConns + counters.activeConns,
      inactiveConns: sum.inactiveConns + counters.inactiveConns,
      bytesFromClients: sum.bytesFromClients + counters.bytesFromClients,
      bytesToClients: sum.bytesToClients + counters.bytesToClients,
      failedConnects: sum.failedConnects + counters.failedConnects,
    });
  }
  return [...byEndpoint.values()];
}
