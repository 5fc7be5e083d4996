import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { loadProxyConfig } from '../config/load-config.js';
import { startDemoCluster } from '../lab/demo-cluster.js';
import { type LabMode, parseLabMode, parseLabModes } from '../lab/lab-mode.js';
import { formatAbReport, formatDistribution, formatP, formatTable } from '../lab/load/print-summary.js';
import { type ModeRunResult, runMode } from '../lab/run-mode.js';
import { positiveInteger } from './options.js';

const SEED_MANIFEST = fileURLToPath(new URL('../../examples/seed/nginx.yaml', import.meta.url));
const SEED_MODES = 'iptables,ipvs:rr,ipvs:sh,ipvs:lc';

interface DemoFlags {
  modes?: string;
  config?: string;
  requests: number;
  concurrency: number;
  pods?: number;
  manifests: string;
  keepalive: boolean;
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description("the seed's experiment: three pods, ab -n 1000 -c 1000, iptables vs ipvs rr / sh / lc")
    .option('--modes <list>', `modes to compare, e.g. ${SEED_MODES}`)
    .option('--config <file>', 'take the mode from a KubeProxyConfiguration or kube-proxy ConfigMap')
    .option('-n, --requests <n>', 'requests per mode', positiveInteger, 1000)
    .option('-c, --concurrency <c>', 'requests in flight at once', positiveInteger, 1000)
    .option('--pods <k>', "number of pods (default: the manifest's)", positiveInteger)
    .option('--manifests <file>', 'Service and EndpointSlice manifest', SEED_MANIFEST)
    .option('-k, --keepalive', 'reuse connections (ab -k)', false)
    .action(async (flags: DemoFlags) => {
      const modes = demoModes(flags);
      const cluster = await startDemoCluster(flags.manifests, flags.pods);
      try {
        printPods(cluster.pods.map((p) => [p.pod.name, p.manifestAddress, `${p.pod.host}:${p.pod.port}`]));
        const results: ModeRunResult[] = [];
        for (const mode of modes) {
          const result = await runMode({ cluster, mode, ...flags, keepAlive: flags.keepalive });
          printRun(result);
          results.push(result);
        }
        console.log(
          `\n== side by side: ${flags.requests} requests at concurrency ${flags.concurrency} per mode\n`,
        );
        console.log(formatComparison(results));
      } finally {
        await cluster.stop();
      }
    });
}

function demoModes(flags: DemoFlags): LabMode[] {
  if (flags.modes) return parseLabModes(flags.modes);
  if (flags.config) {
    const config = loadProxyConfig(flags.config);
    return [parseLabMode(config.mode === 'ipvs' ? `ipvs:${config.ipvs.scheduler}` : config.mode)];
  }
  return parseLabModes(SEED_MODES);
}

function printPods(rows: string[][]): void {
  console.log('Pods (no cluster, no root: each pod is a small HTTP server on its own loopback address)\n');
  console.log(formatTable(['POD', 'MANIFEST ADDRESS', 'RUNS AT'], rows));
}

function printRun(result: ModeRunResult): void {
  console.log(
    `\n== ${result.mode.label}: scheduler ${result.mode.scheduler}, Service frontend at ${result.frontend}\n`,
  );
  console.log(formatAbReport(result.summary));
  console.log('');
  console.log(formatDistribution(result.summary));
  const mismatched = result.summary.distribution.filter(
    (s) => result.backendCounts.get(s.pod) !== s.connections,
  );
  if (mismatched.length > 0)
    console.log(`warning: the pods counted differently: ${[...result.backendCounts].join(' ')}`);
}

/** One row per mode, one column per pod: the table the seed's author would have wanted. */
export function formatComparison(results: readonly ModeRunResult[]): string {
  const pods = results[0]?.summary.distribution.map((share) => share.pod) ?? [];
  const header = ['MODE', ...pods.map(shortPodName), 'FAILED', 'REQ/S', 'P99 MS', 'EVEN? (chi-square p)'];
  const rows = results.map(({ mode, summary }) => {
    const p99 = summary.percentiles.find((row) => row.percent === 99)?.ms ?? 0;
    return [
      mode.label,
      ...pods.map((pod) => String(summary.distribution.find((share) => share.pod === pod)?.connections ?? 0)),
      String(summary.failedRequests - summary.lengthMismatches),
      summary.requestsPerSecond.toFixed(0),
      p99.toFixed(0),
      `${summary.fairness.pValue > 0.001 ? 'yes' : 'no'} (${formatP(summary.fairness.pValue)})`,
    ];
  });
  return formatTable(header, rows);
}

/** `nginx-6799fc88d8-4xqvn` → `4xqvn`: pod columns stay narrow. */
function shortPodName(name: string): string {
  return name.split('-').pop() ?? name;
}
