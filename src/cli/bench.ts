import type { Command } from 'commander';
import { KproxyError } from '../errors.js';
import { runLoad } from '../lab/load/load-generator.js';
import { formatAbReport, formatDistribution } from '../lab/load/print-summary.js';
import { summarizeLoad } from '../lab/load/summarize.js';
import { positiveInteger } from './options.js';

interface BenchFlags {
  requests: number;
  concurrency: number;
  keepalive: boolean;
  timeout: number;
  podHeader: string;
  json: boolean;
}

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('ab-compatible load generator that also reports the spread over pods')
    .argument('<url>', 'http://host[:port]/path')
    .option('-n, --requests <n>', 'number of requests', positiveInteger, 1)
    .option('-c, --concurrency <c>', 'requests in flight at once', positiveInteger, 1)
    .option('-k, --keepalive', 'reuse connections (HTTP KeepAlive)', false)
    .option('-s, --timeout <seconds>', 'seconds to wait for each response', positiveInteger, 30)
    .option('--pod-header <name>', 'response header that names the pod', 'X-Pod-Name')
    .option('--json', 'print the summary as JSON', false)
    .action(async (urlText: string, flags: BenchFlags) => {
      const url = parseHttpUrl(urlText);
      const run = await runLoad({
        url,
        requests: flags.requests,
        concurrency: flags.concurrency,
        keepAlive: flags.keepalive,
        timeoutMs: flags.timeout * 1000,
        podHeader: flags.podHeader.toLowerCase(),
      });
      const summary = summarizeLoad(run);
      if (flags.json) {
        console.log(JSON.stringify(summary, null, 2));
        return;
      }
      console.log(formatAbReport(summary));
      console.log('');
      console.log(
        summary.distribution.length > 0
          ? formatDistribution(summary)
          : `no response carried a ${flags.podHeader} header`,
      );
    });
}

function parseHttpUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new KproxyError('KPROXY_E_USAGE', `invalid URL "${text}"`, {
      hint: 'e.g. kproxy bench -n 1000 -c 100 http://127.0.0.1:8080/',
    });
  }
  if (url.protocol !== 'http:') {
    throw new KproxyError('KPROXY_E_USAGE', `unsupported scheme in "${text}"`, { hint: 'only http:// URLs' });
  }
  return url;
}
