import { hostOf } from './request.js';
import type { LoadSummary, TimingRow } from './summarize.js';

/** ab's report, field by field and column by column, so scripts that parse ab's output parse ours. */
export interface AbReportOptions {
  /** false: no percentile table (ab -d). */
  readonly percentiles?: boolean;
  /** false: no sd, median or sanity warnings in Connection Times (ab -S). */
  readonly confidence?: boolean;
}

export function formatAbReport(summary: LoadSummary, options: AbReportOptions = {}): string {
  const url = new URL(summary.url);
  const { failures } = summary;
  const lines = [
    `Server Software:        ${summary.serverSoftware}`,
    `Server Hostname:        ${hostOf(url)}`,
    `Server Port:            ${portText(url)}`,
    ...tlsLines(summary),
    '',
    `Document Path:          ${url.pathname}${url.search}`,
    summary.variableLength
      ? 'Document Length:        Variable'
      : `Document Length:        ${summary.documentLength} bytes`,
    '',
    `Concurrency Level:      ${summary.concurrency}`,
    `Time taken for tests:   ${summary.timeTakenSeconds.toFixed(3)} seconds`,
    `Complete requests:      ${summary.completeRequests}`,
    `Failed requests:        ${summary.failedRequests}`,
  ];
  if (summary.failedRequests > 0) {
    lines.push(
      `   (Connect: ${failures.connect}, Receive: ${failures.receive}, Length: ${failures.length}, Exceptions: ${failures.exceptions})`,
    );
  }
  if (summary.non2xxResponses > 0) lines.push(`Non-2xx responses:      ${summary.non2xxResponses}`);
  if (summary.keepAlive) lines.push(`Keep-Alive requests:    ${summary.keepAliveRequests}`);
  lines.push(`Total transferred:      ${summary.totalTransferred} bytes`);
  if (summary.totalBodySent > 0) lines.push(`Total body sent:        ${summary.totalBodySent}`);
  lines.push(`HTML transferred:       ${summary.htmlTransferred} bytes`);
  if (summary.timeTakenSeconds > 0 && summary.completeRequests > 0) {
    lines.push(
      `Requests per second:    ${summary.requestsPerSecond.toFixed(2)} [#/sec] (mean)`,
      `Time per request:       ${summary.timePerRequestMs.toFixed(3)} [ms] (mean)`,
      `Time per request:       ${summary.timePerRequestAcrossMs.toFixed(3)} [ms] (mean, across all concurrent requests)`,
      `Transfer rate:          ${summary.transferRateKBps.toFixed(2)} [Kbytes/sec] received`,
    );
    if (summary.totalBodySent > 0) {
      const sentKBps = summary.totalBodySent / 1024 / summary.timeTakenSeconds;
      lines.push(
        `                        ${sentKBps.toFixed(2)} kb/s sent`,
        `                        ${(summary.transferRateKBps + sentKBps).toFixed(2)} kb/s total`,
      );
    }
  }
  if (summary.completeRequests > 0) {
    lines.push('', ...connectionTimes(summary, options.confidence !== false));
  }
  if (options.percentiles !== false && summary.completeRequests > 1) {
    lines.push('', 'Percentage of the requests served within a certain time (ms)');
    for (const { percent, ms } of summary.percentiles) {
      const cell = String(Math.round(ms)).padStart(5);
      lines.push(percent >= 100 ? ` 100%  ${cell} (longest request)` : `  ${percent}%  ${cell}`);
    }
  }
  return lines.join('\n');
}

/** The port ab prints: the URL's, or the scheme's default. */
export function portText(url: URL): string {
  return url.port || (url.protocol === 'https:' ? '443' : '80');
}

function tlsLines(summary: LoadSummary): string[] {
  const { tls } = summary;
  if (!tls) return [];
  const lines = [`SSL/TLS Protocol:       ${tls.protocol}`];
  if (tls.serverTempKey) lines.push(`Server Temp Key:        ${tls.serverTempKey}`);
  if (tls.serverName) lines.push(`TLS Server Name:        ${tls.serverName}`);
  return lines;
}

const TIMING_ROWS = [
  ['Connect:', 'connect', 'the initial connection time'],
  ['Processing:', 'processing', 'the processing time'],
  ['Waiting:', 'waiting', 'the waiting time'],
  ['Total:', 'total', 'the total time'],
] as const;

function connectionTimes(summary: LoadSummary, confidence: boolean): string[] {
  const times = summary.connectionTimes;
  if (!confidence) {
    return [
      'Connection Times (ms)',
      '              min   avg   max',
      ...TIMING_ROWS.map(([label, key]) => {
        const row = times[key];
        return `${label.padEnd(12)}${cell(row.min, 5)} ${cell(row.mean, 5)}${cell(row.max, 5)}`;
      }),
    ];
  }
  return [
    'Connection Times (ms)',
    '              min  mean[+/-sd] median   max',
    ...TIMING_ROWS.map(([label, key]) => {
      const row = times[key];
      return `${label.padEnd(12)}${cell(row.min, 5)} ${cell(row.mean, 4)} ${row.sd.toFixed(1).padStart(5)} ${cell(row.median, 6)} ${cell(row.max, 7)}`;
    }),
    ...TIMING_ROWS.flatMap(([, key, what]) => sanityWarning(times[key], what)),
  ];
}

/** ab's own check: a median far from the mean (in sd) means a skewed, unreliable measurement. */
function sanityWarning(row: TimingRow, what: string): string[] {
  const distance = Math.abs(Math.round(row.mean) - Math.round(row.median));
  if (distance > 2 * row.sd) {
    return [
      `ERROR: The median and mean for ${what} are more than twice the standard`,
      '       deviation apart. These results are NOT reliable.',
    ];
  }
  if (distance > row.sd) {
    return [
      `WARNING: The median and mean for ${what} are not within a normal deviation`,
      '        These results are probably not that reliable.',
    ];
  }
  return [];
}

function cell(value: number, width: number): string {
  return String(Math.round(value)).padStart(width);
}

/** What ab lacks: why "Length" failures are not failures, finer percentiles. */
export function formatBeyondAb(summary: LoadSummary): string {
  const { p50, p90, p99, p999 } = summary.latencyMs;
  const lines = [
    `Latency (ms):           p50 ${p50.toFixed(2)}  p90 ${p90.toFixed(2)}  p99 ${p99.toFixed(2)}  p99.9 ${p999.toFixed(2)}`,
    `Real failures:          ${summary.realFailures} (connect, receive, timeout or reset: no complete response)`,
  ];
  if (summary.lengthMismatches > 0) {
    lines.push(
      `Length differences:     ${summary.lengthMismatches} responses differ in length from the first — not failures:`,
      ...summary.lengthVariants.map(
        (variant) =>
          `  ${String(variant.bytes).padStart(7)} bytes  ${String(variant.responses).padStart(7)} responses  from ${variant.pods.join(', ') || '(unattributed)'}`,
      ),
      variantsReason(summary),
    );
  }
  return lines.join('\n');
}

function variantsReason(summary: LoadSummary): string {
  const perPod = summary.lengthVariants.every((variant) => variant.pods.length === 1);
  return perPod && summary.lengthVariants.length > 1
    ? '  reason: each pod answers with a page of its own length (e.g. its own name in it); ab counts those as "Length" failures.'
    : '  reason: the pages served differ in length; use -l to accept variable lengths as ab does.';
}

/** The spread over pods: what the seed's author looked for in Wireshark. */
export function formatDistribution(summary: LoadSummary): string {
  const expected = summary.fairness.expected === 'weights' ? 'VS WEIGHT' : 'VS EVEN';
  const rows = summary.distribution.map((share) => [
    share.pod,
    String(share.connections),
    `${(share.share * 100).toFixed(1)}%`,
    `${share.deviationFromEven >= 0 ? '+' : ''}${(share.deviationFromEven * 100).toFixed(1)}%`,
  ]);
  const table = formatTable(['POD', 'CONNECTIONS', 'SHARE', expected], rows);
  const { statistic, degreesOfFreedom, pValue, maxOverMean, coefficientOfVariation } = summary.fairness;
  const against = summary.fairness.expected === 'weights' ? 'the weights' : 'an even spread';
  const verdict = pValue > 0.001 ? `consistent with ${against}` : `not ${against}`;
  return [
    table,
    `chi-square ${statistic.toFixed(2)} (df ${degreesOfFreedom}), p = ${formatP(pValue)}: ${verdict}`,
    `max/mean ${maxOverMean.toFixed(3)}, coefficient of variation ${coefficientOfVariation.toFixed(3)}`,
  ].join('\n');
}

export function formatP(p: number): string {
  return p < 0.0001 ? p.toExponential(1) : p.toFixed(4);
}

/** A plain left-aligned text table with a header row. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
