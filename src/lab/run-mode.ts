import { buildProxyState } from '../control/build-proxy-state.js';
import { UserspaceDataplane } from '../dataplanes/userspace/userspace-dataplane.js';
import { KproxyError } from '../errors.js';
import type { DemoCluster } from './demo-cluster.js';
import type { LabMode } from './lab-mode.js';
import { runLoad } from './load/load-generator.js';
import { type LoadSummary, summarizeLoad } from './load/summarize.js';

export interface ModeRunOptions {
  readonly cluster: DemoCluster;
  readonly mode: LabMode;
  readonly requests: number;
  readonly concurrency: number;
  readonly keepAlive: boolean;
}

export interface ModeRunResult {
  readonly mode: LabMode;
  /** Where the Service's frontend listened for this run. */
  readonly frontend: string;
  readonly summary: LoadSummary;
  /** Requests each pod itself counted during the run, to check the load generator against. */
  readonly backendCounts: ReadonlyMap<string, number>;
}

/**
 * Runs one mode of a comparison: the Service's frontend on the userspace data plane with the
 * mode's scheduler, then the load, then the summary. Without root, every mode runs in userspace;
 * what differs between modes is how endpoints are picked, which is what decides the spread.
 */
export async function runMode(options: ModeRunOptions): Promise<ModeRunResult> {
  const { cluster, mode } = options;
  const state = buildProxyState({
    services: [cluster.service],
    endpointSlices: [cluster.endpointSlice],
    nodeName: 'kproxy-demo',
  });
  const dataplane = new UserspaceDataplane({
    scheduler: mode.scheduler,
    listenAddress: () => ({ host: '127.0.0.1', port: 0 }),
  });
  const result = await dataplane.sync(state);
  const failure = [...result.failed.values()][0];
  const frontend = dataplane.frontends()[0];
  try {
    if (failure) throw failure;
    if (!frontend) throw new KproxyError('KPROXY_E_MANIFEST', 'the demo Service has no TCP port to proxy');
    const before = new Map(cluster.pods.map(({ pod }) => [pod.name, pod.requests()]));
    const run = await runLoad({
      url: new URL(`http://${frontend.address.host}:${frontend.address.port}/`),
      requests: options.requests,
      concurrency: options.concurrency,
      keepAlive: options.keepAlive,
    });
    const backendCounts = new Map(
      cluster.pods.map(({ pod }) => [pod.name, pod.requests() - (before.get(pod.name) ?? 0)]),
    );
    return {
      mode,
      frontend: `${frontend.address.host}:${frontend.address.port}`,
      summary: summarizeLoad(run, { knownPods: cluster.pods.map(({ pod }) => pod.name) }),
      backendCounts,
    };
  } finally {
    await dataplane.cleanup();
  }
}
