import type { LabModeResult, LabReport, LabScenarioResult } from '../lab-result.js';
import { comparisonCells } from './lab-text.js';
import { escapeXml, groupedBarChart, lineChart } from './svg-charts.js';

/**
 * The lab's report as one self-contained HTML page: inline CSS, inline SVG, no scripts and no
 * external assets. The JSON it was drawn from is embedded (`#lab-data`), so a reader can check
 * every chart against the numbers.
 */
export function renderLabHtml(report: LabReport): string {
  const json = JSON.stringify(report).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>kproxy lab report</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222;max-width:1100px}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}.charts{display:flex;flex-wrap:wrap;gap:12px}
.chart{border:1px solid #eee;background:#fff}h2{margin-top:2em;border-bottom:1px solid #ddd}
</style></head><body>
<h1>kproxy lab report</h1>
<p>Data plane: <b>${escapeXml(report.backend)}</b> · ${report.pods} pods · generated ${escapeXml(report.generatedAt)}.
Counts per pod are the responses each pod sent, as the load generator attributed them.</p>
${report.scenarios.map(scenarioSection).join('\n')}
<script type="application/json" id="lab-data">${json}</script>
</body></html>
`;
}

function scenarioSection(result: LabScenarioResult): string {
  const cdf = lineChart(
    result.modes.map((mode) => ({
      label: mode.mode,
      points: mode.latencyCdf.map(([ms, f]) => [ms, f] as const),
    })),
    {
      title: `${result.scenario}: latency CDF`,
      chart: 'latency-cdf',
      xLabel: 'latency ms',
      yLabel: 'fraction',
      yMax: 1,
    },
  );
  const bars = groupedBarChart(
    result.modes.map((mode) => ({
      label: mode.mode,
      bars: mode.pods.map((pod) => ({ key: pod.pod, value: pod.requests })),
    })),
    { title: `${result.scenario}: responses per pod per mode`, chart: 'per-pod' },
  );
  return `<section class="scenario" data-scenario="${escapeXml(result.scenario)}">
<h2>${escapeXml(result.scenario)}</h2>
<p>${escapeXml(result.shows)}. ${result.requests} requests per mode, concurrency ${result.concurrency},
${result.keepAlive ? 'keep-alive' : 'a new connection per request'}, ${result.clients} client address(es).</p>
${comparisonTable(result)}
<div class="charts">${bars}${cdf}</div>
<h3>New requests per pod over time</h3>
<div class="charts">${result.modes.map((mode) => arrivalsChart(result.scenario, mode)).join('')}</div>
${
  result.holdsConnections
    ? `<h3>Open connections per pod over time</h3>
<div class="charts">${result.modes.map((mode) => openChart(result.scenario, mode)).join('')}</div>`
    : ''
}
</section>`;
}

function comparisonTable(result: LabScenarioResult): string {
  const pods = [...new Set(result.modes.flatMap((mode) => mode.pods.map((pod) => pod.pod)))];
  const head = [
    'mode',
    'data plane',
    ...pods,
    'failed',
    'req/s',
    'p99 ms',
    'p99.9 ms',
    'chi-square p',
    'max/mean',
    'CV',
    'open max/mean',
  ];
  const rows = result.modes.map((mode) => {
    const cells = comparisonCells(mode, pods).map(escapeXml);
    return `<tr data-mode="${escapeXml(mode.mode)}"><td>${escapeXml(mode.mode)}</td>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`;
  });
  return `<table class="comparison"><thead><tr>${head.map((h) => `<th>${escapeXml(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function arrivalsChart(scenario: string, mode: LabModeResult): string {
  const { binMs, perPod, failed } = mode.arrivals;
  const series = Object.entries(perPod).map(([pod, counts]) => ({
    label: pod,
    points: counts.map((count, i) => [i * binMs, count] as const),
  }));
  if (failed.some((count) => count > 0)) {
    series.push({ label: 'failed', points: failed.map((count, i) => [i * binMs, count] as const) });
  }
  return lineChart(series, {
    title: `${scenario} ${mode.mode}: new requests per pod per ${binMs} ms`,
    chart: 'arrivals',
    xLabel: `${mode.mode} — time ms`,
    yLabel: `requests per ${binMs} ms`,
  });
}

function openChart(scenario: string, mode: LabModeResult): string {
  const { tMs, open } = mode.timeline;
  return lineChart(
    Object.entries(open).map(([pod, counts]) => ({
      label: pod,
      points: counts.map((count, i) => [tMs[i] ?? 0, count] as const),
    })),
    {
      title: `${scenario} ${mode.mode}: open connections per pod`,
      chart: 'open-connections',
      xLabel: `${mode.mode} — time ms`,
      yLabel: 'open',
    },
  );
}
