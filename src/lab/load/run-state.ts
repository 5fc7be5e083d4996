import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { getSystemErrorMap } from 'node:util';
import { type Connector, connectPlain } from './load-connection.js';
import type { LoadOptions } from './load-generator.js';
import { buildRequest, hostOf } from './request.js';
import type { ParsedHead } from './response-parser.js';
import type { ReceiveError, RequestSample } from './sample.js';
import { serverNameOf, type TlsInfo, tlsConnectOptions, tlsInfoOf } from './tls-client.js';
import { tlsConnector } from './tls-connection.js';

/** A request loop, as the run sees it. */
export interface RunSlot {
  /** Drops the request in flight, if any, and ends the loop. */
  abandon(): void;
  /** Fails the request in flight as timed out if it started before `limit` (a performance.now()). */
  expireIfStartedBefore(limit: number): void;
}

/** What the slots of one run share: the target, the request, the samples, and when to stop. */
export class RunState {
  readonly started = performance.now();
  readonly samples: RequestSample[] = [];
  readonly deadline: number;
  readonly podPattern?: RegExp;
  /** Where connections go: the URL's host, or the proxy's; an address once `resolveHost()` ran. */
  host: string;
  readonly port: number;
  /** Opens the run's connections: raw TCP for http, tls.connect for https. */
  readonly connect: Connector = connectPlain;
  tlsInfo?: TlsInfo;
  receiveError?: ReceiveError;
  /** The request loops, dropped when the run stops early. */
  slots: readonly RunSlot[] = [];
  private issued = 0;
  private timeoutSweep?: NodeJS.Timeout;
  private readonly values = new Map<string, string>();

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
      const serverName = serverNameOf(options.url, settings);
      this.connect = tlsConnector(tlsConnectOptions(options.url, settings), {
        keepAlive: options.keepAlive,
        handshaken: (socket) => {
          if (!this.tlsInfo) this.tlsInfo = tlsInfoOf(socket, serverName);
        },
      });
    }
    if (options.signal?.aborted) this.stop();
    else options.signal?.addEventListener('abort', () => this.stop(), { once: true });
  }

  /**
   * Resolves a host name once for the whole run, as ab does: raw connections take addresses only.
   * The system's first address is taken, or the first of the family of the local addresses given.
   * A name that does not resolve stays, and each connection fails to connect, as it would.
   */
  async resolveHost(): Promise<void> {
    if (isIP(this.host) || this.connect !== connectPlain) return;
    const local = this.options.localAddresses?.[0];
    try {
      const addresses = await lookup(this.host, { all: true });
      const family = local ? isIP(local) : 0;
      this.host =
        (addresses.find((a) => !family || a.family === family) ?? addresses[0])?.address ?? this.host;
    } catch {
      // connectTcp names the failure (EINVAL) for every request: ab's connect failures.
    }
  }

  /** The index of the next request to send, or undefined when the run is over. */
  next(): number | undefined {
    if (this.issued >= this.options.requests || performance.now() >= this.deadline) return undefined;
    const shared = this.options.sharedCounter;
    if (!shared) return this.issued++;
    // Threads take their requests from one pool, so they all run until the last one is sent.
    const index = Atomics.add(shared, 0, 1);
    if (index < this.options.requests) return index;
    this.issued = this.options.requests;
    return undefined;
  }

  requestFor(index: number): Buffer {
    const { pathFor, url } = this.options;
    return pathFor ? buildRequest(new URL(pathFor(index), url), this.options).bytes : this.request;
  }

  /**
   * ab without -r: the first receive error (an errno name, ECONNRESET…) ends the run; requests in
   * flight are dropped.
   */
  stopOnReceiveError(code: string): void {
    if (this.receiveError) return;
    const [errno, message] = systemError(code);
    this.receiveError = {
      code,
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

  /**
   * Per-request timeouts (ab -s) by one coarse sweep over the slots, a tenth of the timeout apart,
   * instead of a timer armed and cleared per request. Runs until `finished()`.
   */
  watchTimeouts(): void {
    const timeoutMs = this.options.timeoutMs ?? 30_000;
    const every = Math.min(1000, Math.max(5, timeoutMs / 10));
    this.timeoutSweep = setInterval(() => {
      const limit = performance.now() - timeoutMs;
      for (const slot of this.slots) slot.expireIfStartedBefore(limit);
    }, every);
  }

  finished(): void {
    clearInterval(this.timeoutSweep);
  }

  record(sample: RequestSample): void {
    this.samples.push(sample);
    this.options.onProgress?.(this.samples.length);
  }

  podOf(head: ParsedHead | undefined, bodyStart: string): string | undefined {
    const header = this.options.attribution?.header ?? 'x-pod-name';
    const named = head?.header(header);
    if (named !== undefined || !this.podPattern) return this.interned(named);
    const match = this.podPattern.exec(bodyStart);
    return match ? this.interned(match[1] ?? match[0]) : undefined;
  }

  /**
   * One string per distinct value (server name, pod name): a run keeps every sample, and a value
   * cut from a response head would otherwise keep that whole head alive with it.
   */
  interned(value: string | undefined): string | undefined {
    if (value === undefined) return undefined;
    const known = this.values.get(value);
    if (known !== undefined) return known;
    // Flattened, so it holds no reference to the head it came from.
    const own = Buffer.from(value, 'latin1').toString('latin1');
    if (this.values.size < 10_000) this.values.set(own, own);
    return own;
  }
}

/** The errno and message of an errno name (ECONNRESET → 104, 'connection reset by peer'). */
function systemError(code: string): [number, string] {
  for (const [errno, [name, message]] of getSystemErrorMap()) {
    if (name === code) return [Math.abs(errno), message];
  }
  return [0, code];
}

function portOf(url: URL): number {
  if (url.port) return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}
