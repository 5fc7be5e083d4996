import type { LabModeResult, LabScenarioResult } from '../lab-result.js';
import { formatP, formatTable } from '../load/print-summary.js';

/** The comparison table of one scenario: one row per mode, one column per pod. */
export function formatScenarioTable(result: LabScenarioResult): string {
  const pods = [...new Set(result.modes.flatMap((mode) => mode.pods.map((pod) => pod.pod)))];
  const against = result.modes[0]?.fairness.expected === 'weights' ? 'WEIGHTS' : 'EVEN';
  const header = [
    'MODE',
    'DATA PLANE',
    ...pods,
    'FAILED',
    'REQ/S',
    'P99 MS',
    'P99.9 MS',
    `P vs ${against}`,
    'MAX/MEAN',
    'CV',
    'OPEN MAX/MEAN',
  ];
  const rows = result.modes.map((mode) => [mode.mode, ...comparisonCells(mode, pods)]);
  const title = `== ${result.scenario}: ${result.shows}\n   ${result.requests} requests, concurrency ${result.concurrency}, ${result.keepAlive ? 'keep-alive' : 'new connection per request'}, ${result.clients} client address${result.clients > 1 ? 'es' : ''}`;
  return `${title}\n\n${formatTable(header, rows)}`;
}

/** One mode's cells after its name, as both the text and the HTML comparison tables show them. */
export function comparisonCells(mode: LabModeResult, pods: readonly string[]): string[] {
  return [
    mode.dataplane,
    ...pods.map((name) => String(mode.pods.find((pod) => pod.pod === name)?.requests ?? 0)),
    String(mode.failures),
    mode.requestsPerSecond.toFixed(0),
    mode.latencyMs.p99.toFixed(1),
    mode.latencyMs.p999.toFixed(1),
    formatP(mode.fairness.pValue),
    mode.fairness.maxOverMean.toFixed(2),
    mode.fairness.coefficientOfVariation.toFixed(3),
    mode.openConnectionsMaxOverMean.toFixed(2),
  ];
}
