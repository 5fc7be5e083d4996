import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { InvalidArgumentError } from 'commander';
import { KproxyError } from '../errors.js';
import type { LoadOptions } from '../lab/load/load-generator.js';
import { protocolRange, secureContextOf, type TlsSettings } from '../lab/load/tls-client.js';

/** ab's flags as commander hands them over, plus kproxy's own. */
export interface BenchFlags {
  requests?: number;
  concurrency: number;
  timelimit?: number;
  timeout: number;
  keepalive: boolean;
  header: string[];
  cookie?: string;
  auth?: string;
  postfile?: string;
  putfile?: string;
  contentType?: string;
  method?: string;
  head: boolean;
  localAddress?: string;
  verbosity: number;
  quiet: boolean;
  variableLength: boolean;
  percentiles: boolean;
  confidence: boolean;
  csv?: string;
  gnuplot?: string;
  podHeader: string;
  podPattern?: string;
  weights?: string;
  countersUrl?: string;
  countersMetric: string;
  threads?: number;
  json: boolean;
  continueOnReceiveError: boolean;
  proxy?: string;
  proxyAuth?: string;
  windowSize?: number;
  version?: boolean;
  html: boolean;
  tableAttributes?: string;
  trAttributes?: string;
  tdAttributes?: string;
  sni: boolean;
  cipher?: string;
  protocol?: string;
  cert?: string;
}

/** ab -t without -n sends at most 50000 requests, as ab does. */
const TIME_LIMIT_REQUESTS = 50_000;

export function collectHeader(value: string, previous: string[]): string[] {
  if (!value.includes(':')) throw new InvalidArgumentError(`"${value}" is not "Name: value".`);
  return [...previous, value];
}

/** Turns ab's flags into the load generator's options. */
export function loadOptionsFrom(url: URL, flags: BenchFlags): LoadOptions {
  // ab's order: the cookie, the credentials, then -H lines as given.
  const headers: [string, string][] = [];
  if (flags.cookie) headers.push(['Cookie', flags.cookie]);
  if (flags.auth) headers.push(['Authorization', basic(flags.auth)]);
  if (flags.proxyAuth) headers.push(['Proxy-Authorization', basic(flags.proxyAuth)]);
  for (const line of flags.header) {
    const colon = line.indexOf(':');
    headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  const bodyFile = flags.postfile ?? flags.putfile;
  const method =
    flags.method ?? (flags.head ? 'HEAD' : flags.putfile ? 'PUT' : flags.postfile ? 'POST' : 'GET');
  return {
    url,
    requests: flags.requests ?? (flags.timelimit ? TIME_LIMIT_REQUESTS : 1),
    concurrency: flags.concurrency,
    keepAlive: flags.keepalive,
    timeLimitMs: flags.timelimit ? flags.timelimit * 1000 : undefined,
    timeoutMs: flags.timeout * 1000,
    method,
    headers,
    body: bodyFile ? readFile(bodyFile, '-p/-u') : undefined,
    contentType: flags.contentType,
    localAddresses: flags.localAddress ? flags.localAddress.split(',') : undefined,
    variableLength: flags.variableLength,
    attribution: { header: flags.podHeader.toLowerCase(), bodyPattern: flags.podPattern },
    proxy: flags.proxy ? parseProxy(flags.proxy) : undefined,
    absoluteUri: flags.proxy !== undefined,
    tls: url.protocol === 'https:' ? tlsSettingsFrom(flags) : undefined,
    stopOnReceiveError: !flags.continueOnReceiveError,
  };
}

/** ab -A/-P: user:password, leading blanks dropped, base64 as Basic credentials. */
function basic(credentials: string): string {
  return `Basic ${Buffer.from(credentials.trimStart()).toString('base64')}`;
}

/** ab's TLS flags, checked here once (worker threads could not report a usage error as clearly). */
function tlsSettingsFrom(flags: BenchFlags): TlsSettings {
  const [minVersion, maxVersion] = flags.protocol ? protocolRange(flags.protocol) : [undefined, undefined];
  const settings = {
    sni: flags.sni,
    ciphers: flags.cipher,
    minVersion,
    maxVersion,
    clientPem: flags.cert ? readFile(flags.cert, '-E').toString('latin1') : undefined,
  };
  secureContextOf(settings);
  return settings;
}

/** ab -X proxy:port. */
export function parseProxy(text: string): { host: string; port: number } {
  const colon = text.lastIndexOf(':');
  const port = Number(text.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new KproxyError('KPROXY_E_USAGE', `-X ${text}: not proxy:port`, {
      hint: 'e.g. -X 127.0.0.1:3128',
    });
  }
  return { host: text.slice(0, colon).replace(/^\[|\]$/g, ''), port };
}

function readFile(path: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new KproxyError('KPROXY_E_USAGE', `could not read ${path} (${flag})`, {
      hint: `give ${flag} a readable file`,
      cause: error,
    });
  }
}

/** `pod-a=3,pod-b=1` → weights per pod. */
export function parseWeights(text: string): Map<string, number> {
  const weights = new Map<string, number>();
  for (const item of text.split(',')) {
    const [pod, weight] = item.split('=');
    const value = Number(weight);
    if (!pod || !Number.isFinite(value) || value < 0) {
      throw new KproxyError('KPROXY_E_USAGE', `--weights: "${item}" is not pod=weight`, {
        hint: 'e.g. --weights web-a=3,web-b=1',
      });
    }
    weights.set(pod, value);
  }
  return weights;
}

export function parseHttpUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new KproxyError('KPROXY_E_USAGE', `invalid URL "${text}"`, {
      hint: 'e.g. kproxy bench -n 1000 -c 100 http://127.0.0.1:8080/',
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new KproxyError('KPROXY_E_USAGE', `unsupported scheme in "${text}"`, {
      hint: 'http:// or https:// URLs',
    });
  }
  return url;
}

/**
 * Opening a connection per request costs a Node client about as much CPU as the server's answer,
 * so one thread falls behind ab there (0.8× on this project's benchmark machine, 1.1× with two:
 * docs/BENCHMARKS.md); kept-alive requests are cheap, and a second thread only takes a core a
 * local server needs.
 */
export function defaultThreads(keepAlive: boolean): number {
  return keepAlive ? 1 : Math.min(2, availableParallelism());
}
