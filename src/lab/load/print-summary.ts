import type { LoadSummary, TimingRow } from './summarize.js';

/** ab's report, field by field, so scripts that parse ab's output can parse ours. */
export function formatAbReport(summary: LoadSummary): string {
  const url = new URL(summary.url);
  const { failures } = summary;
  const lines = [
    `Server Software:        ${summary.serverSoftware}`,
    `Server Hostname:        ${url.hostname}`,
    `Server Port:            ${url.port || '80'}`,
    '',
    `Document Path:          ${url.pathname}${url.search}`,
    `Document Length:        ${summary.documentLength} bytes`,
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
  lines.push(
    `Total transferred:      ${summary.totalTransferred} bytes`,
    `HTML transferred:       ${summary.htmlTransferred} bytes`,
    `Requests per second:    ${summary.requestsPerSecond.toFixed(2)} [#/sec] (mean)`,
    `Time per request:       ${summary.timePerRequestMs.toFixed(3)} [ms] (mean)`,
    `Time per request:       ${summary.timePerRequestAcrossMs.toFixed(3)} [ms] (mean, across all concurrent requests)`,
    `Transfer rate:          ${summary.transferRateKBps.toFixed(2)} [Kbytes/sec] received`,
    '',
    'Connection Times (ms)',
    '              min  mean[+/-sd] median   max',
    timingLine('Connect:', summary.connectionTimes.connect),
    timingLine('Processing:', summary.connectionTimes.processing),
    timingLine('Waiting:', summary.connectionTimes.waiting),
    timingLine('Total:', summary.connectionTimes.total),
    '',
    'Percentage of the requests served within a certain time (ms)',
    ...summary.percentiles.map(
      ({ percent, ms }) =>
        `  ${`${percent}%`.padStart(4)} ${String(Math.round(ms)).padStart(6)}${percent === 100 ? ' (longest request)' : ''}`,
    ),
  );
  if (summary.lengthMismatches > 0) {
    lines.push(
      '',
      `Note: ${summary.lengthMismatches} "Length" failures are responses whose body length differs from the first`,
      "response's; ab counts them as failed, but with pods that answer with their own name they are not errors.",
    );
  }
  return lines.join('\n');
}

function timingLine(label: string, row: TimingRow): string {
  const cell = (value: number, width: number) => String(Math.round(value)).padStart(width);
  return `${label.padEnd(11)}${cell(row.min, 5)} ${cell(row.mean, 5)} ${row.sd.toFixed(1).padStart(5)} ${cell(row.median, 6)} ${cell(row.max, 5)}`;
}

/** The spread over pods: what the seed's author looked for in Wireshark. */
export function formatDistribution(summary: LoadSummary): string {
  const rows = summary.distribution.map((share) => [
    share.pod,
    String(share.connections),
    `${(share.share * 100).toFixed(1)}%`,
    `${share.deviationFromEven >= 0 ? '+' : ''}${(share.deviationFromEven * 100).toFixed(1)}%`,
  ]);
  const table = formatTable(['POD', 'CONNECTIONS', 'SHARE', 'VS EVEN'], rows);
  const { statistic, degreesOfFreedom, pValue } = summary.fairness;
  const verdict = pValue > 0.001 ? 'consistent with an even spread' : 'not an even spread';
  return `${table}\nchi-square ${statistic.toFixed(2)} (df ${degreesOfFreedom}), p = ${formatP(pValue)}: ${verdict}`;
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
