import { formatP, portText } from './print-summary.js';
import { hostOf } from './request.js';
import type { LoadSummary } from './summarize.js';

/** ab -x, -y, -z: attributes put verbatim into <table>, <tr> and <th>/<td> (ab's default td: bgcolor=white). */
export interface HtmlAttributes {
  readonly table: string;
  readonly tr: string;
  readonly td: string;
}

export const AB_HTML_DEFAULTS: HtmlAttributes = { table: '', tr: '', td: 'bgcolor=white' };

/**
 * ab -w: the report as ab's HTML table, row by row with ab's names (Server Software … Transfer
 * rate, then Connection Times min/avg/max), followed by kproxy's rows: latency to p99.9, the spread
 * over pods and its fairness.
 */
export function formatAbHtml(summary: LoadSummary, attributes: HtmlAttributes = AB_HTML_DEFAULTS): string {
  const { tr, td } = attributes;
  const field = (name: string, value: string) =>
    `<tr ${tr}><th colspan=2 ${td}>${name}:</th><td colspan=2 ${td}>${escapeHtml(value)}</td></tr>`;
  const url = new URL(summary.url);
  const { failures } = summary;
  const rows = [
    field('Server Software', summary.serverSoftware),
    field('Server Hostname', hostOf(url)),
    field('Server Port', portText(url)),
    field('Document Path', `${url.pathname}${url.search}`),
    field('Document Length', summary.variableLength ? 'Variable' : `${summary.documentLength} bytes`),
    field('Concurrency Level', String(summary.concurrency)),
    field('Time taken for tests', `${summary.timeTakenSeconds.toFixed(3)} seconds`),
    field('Complete requests', String(summary.completeRequests)),
    field('Failed requests', String(summary.failedRequests)),
  ];
  if (summary.failedRequests > 0) {
    // ab's HTML leaves Receive out of this line; so do we, to parse alike.
    rows.push(
      `<tr ${tr}><td colspan=4 ${td} >   (Connect: ${failures.connect}, Length: ${failures.length}, Exceptions: ${failures.exceptions})</td></tr>`,
    );
  }
  if (summary.non2xxResponses > 0) rows.push(field('Non-2xx responses', String(summary.non2xxResponses)));
  if (summary.keepAlive) rows.push(field('Keep-Alive requests', String(summary.keepAliveRequests)));
  rows.push(field('Total transferred', `${summary.totalTransferred} bytes`));
  if (summary.totalBodySent > 0) rows.push(field('Total body sent', String(summary.totalBodySent)));
  rows.push(field('HTML transferred', `${summary.htmlTransferred} bytes`));
  rows.push(
    ...rateRows(summary, attributes),
    ...timeRows(summary, attributes),
    ...kproxyRows(summary, attributes),
  );
  return `<table ${attributes.table}>\n${rows.join('\n')}\n</table>`;
}

function rateRows(summary: LoadSummary, { tr, td }: HtmlAttributes): string[] {
  const seconds = summary.timeTakenSeconds;
  if (seconds <= 0) return [];
  const cell = (name: string, value: string) =>
    `<tr ${tr}><th colspan=2 ${td}>${name}:</th><td colspan=2 ${td}>${value}</td></tr>`;
  const rows = [
    cell('Requests per second', summary.requestsPerSecond.toFixed(2)),
    cell('Transfer rate', `${summary.transferRateKBps.toFixed(2)} kb/s received`),
  ];
  if (summary.totalBodySent > 0) {
    const sent = summary.totalBodySent / 1024 / seconds;
    const blank = (value: string) =>
      `<tr ${tr}><td colspan=2 ${td}>&nbsp;</td><td colspan=2 ${td}>${value}</td></tr>`;
    rows.push(
      blank(`${sent.toFixed(2)} kb/s sent`),
      blank(`${(summary.transferRateKBps + sent).toFixed(2)} kb/s total`),
    );
  }
  return rows;
}

/** ab's min/avg/max table; Processing is Total minus Connect, as ab computes it there. */
function timeRows(summary: LoadSummary, { tr, td }: HtmlAttributes): string[] {
  if (summary.completeRequests === 0) return [];
  const { connect, total } = summary.connectionTimes;
  const ms = (value: number) => String(Math.round(value)).padStart(5);
  const row = (name: string, min: number, avg: number, max: number) =>
    `<tr ${tr}><th ${td}>${name}:</th><td ${td}>${ms(min)}</td><td ${td}>${ms(avg)}</td><td ${td}>${ms(max)}</td></tr>`;
  const r = Math.round;
  return [
    `<tr ${tr}><th ${td} colspan=4>Connection Times (ms)</th></tr>`,
    `<tr ${tr}><th ${td}>&nbsp;</th> <th ${td}>min</th>   <th ${td}>avg</th>   <th ${td}>max</th></tr>`,
    row('Connect', connect.min, connect.mean, connect.max),
    row(
      'Processing',
      r(total.min) - r(connect.min),
      r(total.mean) - r(connect.mean),
      r(total.max) - r(connect.max),
    ),
    row('Total', total.min, total.mean, total.max),
  ];
}

/** What ab lacks, in the same table: the latency tail, the spread over pods, its fairness. */
function kproxyRows(summary: LoadSummary, { tr, td }: HtmlAttributes): string[] {
  const cells = (tag: 'th' | 'td', values: readonly string[]) =>
    `<tr ${tr}>${values.map((value) => `<${tag} ${td}>${escapeHtml(value)}</${tag}>`).join('')}</tr>`;
  const { p50, p90, p99, p999 } = summary.latencyMs;
  const rows = [
    `<tr ${tr}><th ${td} colspan=4>Latency (ms)</th></tr>`,
    cells('th', ['p50', 'p90', 'p99', 'p99.9']),
    cells(
      'td',
      [p50, p90, p99, p999].map((value) => value.toFixed(2)),
    ),
    `<tr ${tr}><th colspan=2 ${td}>Real failures:</th><td colspan=2 ${td}>${summary.realFailures}</td></tr>`,
  ];
  if (summary.distribution.length === 0) return rows;
  const expected = summary.fairness.expected === 'weights' ? 'vs weight' : 'vs even';
  const { statistic, degreesOfFreedom, pValue, maxOverMean, coefficientOfVariation } = summary.fairness;
  rows.push(
    `<tr ${tr}><th ${td} colspan=4>Spread over pods</th></tr>`,
    cells('th', ['Pod', 'Connections', 'Share', expected]),
    ...summary.distribution.map((share) =>
      cells('td', [
        share.pod,
        String(share.connections),
        `${(share.share * 100).toFixed(1)}%`,
        `${share.deviationFromEven >= 0 ? '+' : ''}${(share.deviationFromEven * 100).toFixed(1)}%`,
      ]),
    ),
    cells('th', ['chi-square', 'p', 'max/mean', 'cv']),
    cells('td', [
      `${statistic.toFixed(2)} (df ${degreesOfFreedom})`,
      formatP(pValue),
      maxOverMean.toFixed(3),
      coefficientOfVariation.toFixed(3),
    ]),
  );
  return rows;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
