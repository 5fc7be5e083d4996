import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { gnuplotTsv, percentCsv } from '../lab/load/ab-files.js';
import { counterDelta, readCounters } from '../lab/load/counters.js';
import { formatAbReport, formatBeyondAb, formatDistribution } from '../lab/load/print-summary.js';
import { terminalProgress } from '../lab/load/progress.js';
import { buildRequest } from '../lab/load/request.js';
import { type LoadSummary, summarizeLoad } from '../lab/load/summarize.js';
import { runLoadThreaded } from '../lab/load/threaded-load.js';
import {
  type BenchFlags,
  collectHeader,
  loadOptionsFrom,
  parseHttpUrl,
  parseWeights,
} from './bench-flags.js';
import { positiveInteger } from './options.js';

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('ab-compatible load generator that also reports the spread over pods, fairness and p99.9')
    .argument('<url>', 'http://host[:port]/path')
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
    .option('--threads <n>', 'load generator threads (CPU cores to use)', positiveInteger, 1)
    .option('--json', 'print the summary as JSON', false)
    .action(async (urlText: string, flags: BenchFlags) => {
      const url = parseHttpUrl(urlText);
      const options = loadOptionsFrom(url, flags);
      const before = flags.countersUrl
        ? await readCounters(flags.countersUrl, flags.countersMetric)
        : undefined;
      const progress = terminalProgress(options.requests, !flags.quiet && !flags.json);
      if (!flags.json && flags.verbosity >= 2) {
        // ab -v 2: the request as it goes on the wire
        const request = buildRequest(url, options).bytes.toString('latin1');
        console.log(`INFO: ${options.method} header == \n---\n${request}\n---`);
      }
      if (!flags.json) console.log(`Benchmarking ${url.hostname} (be patient)`);
      const startedAt = Date.now();
      const run = await runLoadThreaded(
        { ...options, onProgress: (done) => progress.update(done) },
        flags.threads,
      );
      progress.end();
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
      printReport(summary, flags);
    });
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
