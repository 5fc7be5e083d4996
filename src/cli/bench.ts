import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { KproxyError } from '../errors.js';
import { gnuplotTsv, percentCsv } from '../lab/load/ab-files.js';
import { counterDelta, readCounters } from '../lab/load/counters.js';
import { AB_HTML_DEFAULTS, formatAbHtml } from '../lab/load/print-html.js';
import { formatAbReport, formatBeyondAb, formatDistribution } from '../lab/load/print-summary.js';
import { terminalProgress } from '../lab/load/progress.js';
import { buildRequest, hostOf } from '../lab/load/request.js';
import type { LoadRun } from '../lab/load/sample.js';
import { type LoadSummary, summarizeLoad } from '../lab/load/summarize.js';
import { runLoadThreaded } from '../lab/load/threaded-load.js';
import {
  type BenchFlags,
  collectHeader,
  defaultThreads,
  loadOptionsFrom,
  parseHttpUrl,
  parseWeights,
} from './bench-flags.js';
import { positiveInteger } from './options.js';

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('ab-compatible load generator that also reports the spread over pods, fairness and p99.9')
    .argument('[url]', 'http[s]://host[:port]/path')
    .option('-n, --requests <n>', 'number of requests to perform', positiveInteger)
    .option('-c, --concurrency <c>', 'number of multiple requests to make at a time', positiveInteger, 1)
    .option(
      '-t, --timelimit <seconds>',
      'seconds to max. spend on benchmarking (implies -n 50000)',
      positiveInteger,
    )
    .option('-s, --timeout <seconds>', 'seconds to max. wait for each response', positiveInteger, 30)
    .option('-k, --keepalive', 'use HTTP KeepAlive feature', false)
    .option(
      '-H, --header <line>',
      "add an arbitrary header line, e.g. 'Accept-Encoding: gzip'",
      collectHeader,
      [],
    )
    .option('-C, --cookie <name=value>', 'add a cookie')
    .option('-A, --auth <user:password>', 'add Basic WWW authentication')
    .option('-p, --postfile <file>', 'file containing data to POST (remember to also set -T)')
    .option('-u, --putfile <file>', 'file containing data to PUT (remember to also set -T)')
    .option('-T, --content-type <type>', "content-type header for POSTing/PUTting, e.g. 'application/json'")
    .option('-m, --method <method>', 'method name')
    .option('-i, --head', 'use HEAD instead of GET', false)
    .option(
      '-B, --local-address <addr>',
      'address to bind to when making outgoing connections (a,b,… spreads)',
    )
    .option('-v, --verbosity <n>', 'how much troubleshooting info to print (2: the request)', Number, 1)
    .option('-q, --quiet', 'do not show progress', false)
    .option('-l, --variable-length', 'accept variable document length (use this for dynamic pages)', false)
    .option('-d, --no-percentiles', 'do not show percentiles served table')
    .option('-S, --no-confidence', 'do not show confidence estimators and warnings')
    .option('-e, --csv <file>', 'output CSV file with percentages served')
    .option('-g, --gnuplot <file>', 'output all measured values as a gnuplot (TSV) file')
    .option(
      '-r, --continue-on-receive-error',
      "don't exit on socket receive errors (without -r the first one stops the run)",
      false,
    )
    .option('-X, --proxy <proxy:port>', 'proxy server and port number to use')
    .option('-P, --proxy-auth <user:password>', 'add Basic Proxy Authentication')
    .option(
      '-b, --window-size <bytes>',
      'size of TCP send/receive buffer: accepted, not applied (Node.js cannot set it on TCP sockets)',
      positiveInteger,
    )
    .option('-V, --version', 'print version number and exit')
    .option('-w, --html', 'print out results in HTML tables', false)
    .option('-x, --table-attributes <attributes>', 'string to insert as table attributes (implies -w)')
    .option('-y, --tr-attributes <attributes>', 'string to insert as tr attributes (implies -w)')
    .option('-z, --td-attributes <attributes>', 'string to insert as td or th attributes (implies -w)')
    .option('-I, --no-sni', 'disable TLS Server Name Indication (SNI) extension')
    .option('-Z, --cipher <suite>', 'SSL/TLS cipher suite (see openssl ciphers)')
    .option('-f, --protocol <name>', 'SSL/TLS protocol (TLS1, TLS1.1, TLS1.2, TLS1.3 or ALL)')
    .option('-E, --cert <file>', 'client certificate chain and private key (PEM)')
    .option('--pod-header <name>', 'response header that names the pod', 'X-Pod-Name')
    .option('--pod-pattern <regex>', 'find the pod in the body instead (first group, or the whole match)')
    .option('--weights <pod=w,…>', 'test fairness against these weights instead of an even spread')
    .option(
      '--counters-url <url>',
      "read the proxy's per-endpoint counters before and after (JSON or Prometheus)",
    )
    .option(
      '--counters-metric <name>',
      'Prometheus metric of --counters-url',
      'kproxy_endpoint_connections_total',
    )
    .option(
      '--threads <n>',
      'load generator threads (CPU cores to use); default 2 (or the cores, if fewer) with a new connection per request, 1 with -k',
      positiveInteger,
    )
    .option('--json', 'print the summary as JSON', false)
    .action(async (urlText: string | undefined, flags: BenchFlags) => {
      if (flags.version) {
        console.log(versionLine());
        return;
      }
      if (!urlText) {
        throw new KproxyError('KPROXY_E_USAGE', 'missing URL', {
          hint: 'e.g. kproxy bench -n 1000 -c 100 http://127.0.0.1:8080/',
        });
      }
      const url = parseHttpUrl(urlText);
      const options = loadOptionsFrom(url, flags);
      const html = isHtml(flags);
      if (flags.windowSize) {
        console.error(
          `kproxy bench: -b ${flags.windowSize} not applied: Node.js cannot set SO_SNDBUF/SO_RCVBUF on TCP sockets; the system's buffer sizes are used`,
        );
      }
      const before = flags.countersUrl
        ? await readCounters(flags.countersUrl, flags.countersMetric)
        : undefined;
      const progress = terminalProgress(options.requests, !flags.quiet && !flags.json && !html);
      if (!flags.json && flags.verbosity >= 2) {
        // ab -v 2: the request as it goes on the wire
        const request = buildRequest(url, options).bytes.toString('latin1');
        console.log(`INFO: ${options.method} header == \n---\n${request}\n---`);
      }
      if (!flags.json && !html) {
        const through = flags.proxy ? `[through ${flags.proxy}] ` : '';
        console.log(`Benchmarking ${hostOf(url)} ${through}(be patient)`);
      }
      const startedAt = Date.now();
      const run = await runLoadThreaded(
        { ...options, onProgress: (done) => progress.update(done) },
        flags.threads ?? defaultThreads(options.keepAlive),
      );
      progress.end();
      if (run.receiveError) stopOnReceiveError(run);
      const podCounts =
        before && flags.countersUrl
          ? counterDelta(before, await readCounters(flags.countersUrl, flags.countersMetric))
          : undefined;
      const weights = flags.weights ? parseWeights(flags.weights) : undefined;
      const summary = summarizeLoad(run, {
        podCounts,
        weights,
        knownPods: weights ? [...weights.keys()] : [],
      });
      if (flags.csv) writeFileSync(flags.csv, percentCsv(run.samples.map((s) => s.totalMs)));
      if (flags.gnuplot) writeFileSync(flags.gnuplot, gnuplotTsv(run.samples, startedAt));
      if (flags.json) {
        console.log(JSON.stringify(summary, null, 2));
        return;
      }
      if (html) {
        console.log(`\n\n${formatAbHtml(summary, htmlAttributes(flags))}`);
        return;
      }
      printReport(summary, flags);
    });
}

/** ab -V's line, naming kproxy. */
function versionLine(): string {
  let version = 'unknown';
  try {
    const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    version = String(manifest.version);
  } catch {
    // Installed without its package.json: the version is unknown, the command still answers.
  }
  return `This is kproxy bench, Version ${version} <ApacheBench 2.3 compatible>`;
}

/** -w, or any of -x/-y/-z (which imply it in ab). */
function isHtml(flags: BenchFlags): boolean {
  return (
    flags.html ||
    flags.tableAttributes !== undefined ||
    flags.trAttributes !== undefined ||
    flags.tdAttributes !== undefined
  );
}

function htmlAttributes(flags: BenchFlags) {
  return {
    table: flags.tableAttributes ?? AB_HTML_DEFAULTS.table,
    tr: flags.trAttributes ?? AB_HTML_DEFAULTS.tr,
    td: flags.tdAttributes ?? AB_HTML_DEFAULTS.td,
  };
}

/** ab without -r on a receive error: how many requests completed, the error, and a failing exit. */
function stopOnReceiveError(run: LoadRun): never {
  const error = run.receiveError;
  if (!error) throw new Error('stopOnReceiveError without a receive error');
  console.log(`Total of ${error.completed} requests completed`);
  throw new KproxyError(
    'KPROXY_E_LAB',
    `socket receive error: ${error.message} (${error.errno}, ${error.code}); the run stopped`,
    { hint: 'ab stops here too; -r counts receive errors as failed requests and goes on' },
  );
}

function printReport(summary: LoadSummary, flags: BenchFlags): void {
  console.log(
    `\n\n${formatAbReport(summary, { percentiles: flags.percentiles, confidence: flags.confidence })}`,
  );
  console.log(`\n${formatBeyondAb(summary)}\n`);
  const source = flags.countersUrl
    ? 'the proxy counters'
    : flags.podPattern
      ? 'a body pattern'
      : flags.podHeader;
  console.log(
    summary.distribution.length > 0
      ? `Spread over pods (attributed by ${source}):\n${formatDistribution(summary)}`
      : `Spread over pods: no response carried a ${flags.podHeader} header (try --pod-pattern or --counters-url)`,
  );
}
