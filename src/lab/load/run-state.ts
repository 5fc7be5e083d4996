import { performance } from 'node:perf_hooks';
import type { ConnectionOptions } from 'node:tls';
import { getSystemErrorMap } from 'node:util';
import type { LoadOptions } from './load-generator.js';
import { buildRequest, hostOf } from './request.js';
import type { ParsedHead } from './response-parser.js';
import type { ReceiveError, RequestSample } from './sample.js';
import { serverNameOf, type TlsInfo, tlsConnectOptions } from './tls-client.js';

/** What the slots of one run share: the target, the request, the samples, and when to stop. */
export class RunState {
  readonly started = performance.now();
  readonly samples: RequestSample[] = [];
  readonly deadline: number;
  readonly podPattern?: RegExp;
  /** Where connections go: the URL's host, or the proxy's. */
  readonly host: string;
  readonly port: number;
  /** tls.connect options of an https run (the same for every connection), else undefined. */
  readonly tlsOptions?: ConnectionOptions;
  readonly serverName?: string;
  tlsInfo?: TlsInfo;
  receiveError?: ReceiveError;
  /** The request loops, dropped when the run stops early. */
  slots: readonly { abandon(): void }[] = [];
  private issued = 0;

  constructor(
    readonly options: LoadOptions,
    readonly request: Buffer,
  ) {
    this.deadline = options.timeLimitMs ? this.started + options.timeLimitMs : Number.POSITIVE_INFINITY;
    if (options.attribution?.bodyPattern) this.podPattern = new RegExp(options.attribution.bodyPattern);
    this.host = options.proxy?.host ?? hostOf(options.url);
    this.port = options.proxy?.port ?? portOf(options.url);
    if (options.url.protocol === 'https:') {
      const settings = options.tls ?? { sni: true };
      this.tlsOptions = tlsConnectOptions(options.url, settings);
      this.serverName = serverNameOf(options.url, settings);
    }
    if (options.signal?.aborted) this.stop();
    else options.signal?.addEventListener('abort', () => this.stop(), { once: true });
  }

  /** The index of the next request to send, or undefined when the run is over. */
  next(): number | undefined {
    if (this.issued >= this.options.requests || performance.now() >= this.deadline) return undefined;
    return this.issued++;
  }

  requestFor(index: number): Buffer {
    const { pathFor, url } = this.options;
    return pathFor ? buildRequest(new URL(pathFor(index), url), this.options).bytes : this.request;
  }

  /** ab without -r: the first receive error ends the run; requests in flight are dropped. */
  stopOnReceiveError(error: NodeJS.ErrnoException): void {
    if (this.receiveError) return;
    const errno = Math.abs(error.errno ?? 0);
    const message = getSystemErrorMap().get(-errno)?.[1] ?? error.message;
    this.receiveError = {
      code: error.code ?? 'EIO',
      errno,
      message: message.charAt(0).toUpperCase() + message.slice(1),
      completed: this.samples.length,
    };
    this.stop();
  }

  /** No more requests; the ones in flight are dropped. */
  stop(): void {
    this.issued = this.options.requests;
    for (const slot of this.slots) slot.abandon();
  }

  record(sample: RequestSample): void {
    this.samples.push(sample);
    this.options.onProgress?.(this.samples.length);
  }

  podOf(head: ParsedHead | undefined, bodyStart: string): string | undefined {
    const header = this.options.attribution?.header ?? 'x-pod-name';
    const named = head?.headers.get(header);
    if (named !== undefined || !this.podPattern) return named;
    const match = this.podPattern.exec(bodyStart);
    return match ? (match[1] ?? match[0]) : undefined;
  }
}

function portOf(url: URL): number {
  if (url.port) return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}
