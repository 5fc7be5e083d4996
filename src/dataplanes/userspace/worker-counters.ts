import type { BackendCounters } from './backend.js';
import type { ServicePortCounters } from './worker-protocol.js';

type CounterList = readonly (readonly [string, ServicePortCounters])[];

/**
 * The pool's counters: each live worker's at its last answer, plus what workers that died had
 * counted by their last answer (without their open connections, gone with them). The cumulative
 * sums never go back when a worker is replaced; what a worker counted after its last answer is
 * lost with it.
 */
export class PoolCounters<W> {
  private readonly latest = new Map<W, CounterList>();
  private retired: CounterList = [];

  /** A live worker's answer. */
  record(worker: W, counters: CounterList): void {
    this.latest.set(worker, counters);
  }

  /** A worker died: its last answer stays in the sums, as closed connections. */
  retire(worker: W): void {
    const last = this.latest.get(worker) ?? [];
    this.latest.delete(worker);
    const closed = last.map(([id, counters]): [string, ServicePortCounters] => [id, closedOnly(counters)]);
    this.retired = [...sumCounters([this.retired, closed])];
  }

  sums(): Map<string, ServicePortCounters> {
    return sumCounters([...this.latest.values(), this.retired]);
  }
}

function closedOnly(counters: ServicePortCounters): ServicePortCounters {
  const closed = (backends: readonly BackendCounters[]) =>
    backends.map((backend) => ({ ...backend, activeConns: 0, inactiveConns: 0 }));
  return { cluster: closed(counters.cluster), external: closed(counters.external) };
}

/** Sums each service port's counters over the workers' lists, endpoint by endpoint. */
function sumCounters(lists: readonly CounterList[]): Map<string, ServicePortCounters> {
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
