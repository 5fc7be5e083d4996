import { buildProxyState } from '../control/build-proxy-state.js';
import { UserspaceLabBackend } from './backends/userspace-lab-backend.js';
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
 * Runs one mode of the demo: the manifest's Service on the lab's userspace backend with the
 * mode's scheduler, then the load, then the summary.
 */
export async function runMode(options: ModeRunOptions): Promise<ModeRunResult> {
  const { cluster, mode } = options;
  const state = buildProxyState({
    services: [cluster.service],
    endpointSlices: [cluster.endpointSlice],
    nodeName: 'kproxy-demo',
  });
  const backend = new UserspaceLabBackend();
  try {
    const frontend = await backend.start(mode, state);
    const before = new Map(cluster.pods.map(({ pod }) => [pod.name, pod.requests()]));
    const run = await runLoad({
      url: new URL(`http://${frontend.host}:${frontend.port}/`),
      requests: options.requests,
      concurrency: options.concurrency,
      keepAlive: options.keepAlive,
    });
    const backendCounts = new Map(
      cluster.pods.map(({ pod }) => [pod.name, pod.requests() - (before.get(pod.name) ?? 0)]),
    );
    return {
      mode,
      frontend: `${frontend.host}:${frontend.port}`,
      summary: summarizeLoad(run, { knownPods: cluster.pods.map(({ pod }) => pod.name) }),
      backendCounts,
    };
  } finally {
    await backend.stop();
  }
}
