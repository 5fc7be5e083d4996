import { performance } from 'node:perf_hooks';
import type { ConnectionEvents, FailurePhase, LoadConnection } from './load-connection.js';
import { buildRequest, type RequestShape } from './request.js';
import { ResponseParser } from './response-parser.js';
import { type RunSlot, RunState } from './run-state.js';
import type { Attribution, LoadRun, RequestSample } from './sample.js';
import type { TlsSettings } from './tls-client.js';

export interface LoadOptions extends RequestShape {
  readonly url: URL;
  /** Number of requests (ab -n); with a time limit, the most to send. */
  readonly requests: number;
  /** Requests in flight at once (ab -c). */
  readonly concurrency: number;
  /** Reuse connections (ab -k); otherwise a new TCP connection per request, as ab does. */
  readonly keepAlive: boolean;
  /** Stop starting requests after this many milliseconds (ab -t). */
  readonly timeLimitMs?: number;
  /** Per-request timeout in milliseconds (ab -s, default 30 s). */
  readonly timeoutMs?: number;
  readonly attribution?: Attribution;
  /** Local source addresses to spread connections over (ab -B takes one), e.g. 127.0.0.100…. */
  readonly localAddresses?: readonly string[];
  /** The path of request `index`, when requests differ (the lab's connections of uneven length). */
  readonly pathFor?: (index: number) => string;
  /** Accept responses of any length (ab -l). */
  readonly variableLength?: boolean;
  /** Called after every completed request with the count so far. */
  readonly onProgress?: (done: number) => void;
  /** Connect here instead of to the URL's host (ab -X); set `absoluteUri` with it, as a proxy expects. */
  readonly proxy?: { readonly host: string; readonly port: number };
  /** TLS settings of https:// URLs (ab -I, -Z, -f, -E); defaults when absent. */
  readonly tls?: TlsSettings;
  /** Stop the whole run at the first socket receive error, as ab does without -r. */
  readonly stopOnReceiveError?: boolean;
  /** Ends the run early when aborted; requests in flight are dropped. */
  readonly signal?: AbortSignal;
  /**
   * A counter over shared memory that several threads' runs take request indexes from (then
   * `requests` is the total of all); each run counts its own otherwise.
   */
  readonly sharedCounter?: Int32Array;
}

/**
 * Sends requests like ab: each of `concurrency` slots keeps one request in flight, over a new
 * connection each time unless keep-alive is on. One sample per request; aggregation is elsewhere.
 * Each slot is a small state machine with its handlers bound once, so a request costs no closures.
 */
export async function runLoad(options: LoadOptions): Promise<LoadRun> {
  const request = buildRequest(options.url, options);
  const run = new RunState(options, request.bytes);
  await run.resolveHost();
  const slots = Math.max(1, Math.min(options.concurrency, options.requests));
  const running = Array.from({ length: slots }, (_, index) => new Slot(run, index));
  run.slots = running;
  run.watchTimeouts();
  await Promise.all(running.map((slot) => slot.start()));
  run.finished();
  return {
    url: options.url,
    concurrency: options.concurrency,
    keepAlive: options.keepAlive,
    durationMs: performance.now() - run.started,
    samples: run.samples,
    bodyBytesSent: request.bodyLength * run.samples.length,
    variableLength: options.variableLength,
    tls: run.tlsInfo,
    receiveError: run.receiveError,
  };
}

/**
 * One of the `concurrency` request loops. It is the events receiver of its own connections: a
 * connection reports only until the slot closes it, so every event here is the current one's.
 */
class Slot implements ConnectionEvents, RunSlot {
  private connection?: LoadConnection;
  private readonly parser: ResponseParser;
  private done: () => void = () => {};
  private request: Buffer;
  private start0 = 0;
  private connectedAt = 0;
  private firstByteAt = 0;
  private bytes = 0;
  private requestIndex = 0;
  private reused = false;
  private pending = false;
  private clientAddress?: string;

  constructor(
    private readonly run: RunState,
    private readonly index: number,
  ) {
    this.request = run.request;
    this.parser = new ResponseParser(run.podPattern !== undefined);
  }

  start(): Promise<void> {
    return new Promise((resolve) => {
      this.done = resolve;
      this.sendNext();
    });
  }

  private sendNext(): void {
    const index = this.run.next();
    if (index === undefined) {
      this.dropConnection();
      this.done();
      return;
    }
    this.request = this.run.requestFor(index);
    this.send(index);
  }

  /** Sends request `index`, over the kept-alive connection if there is one, else a new one. */
  private send(index: number): void {
    this.pending = true;
    this.parser.reset(this.run.options.method === 'HEAD');
    this.start0 = performance.now();
    this.firstByteAt = 0;
    this.bytes = 0;
    this.requestIndex = index;
    this.reused = this.connection !== undefined;
    if (this.connection) {
      this.connectedAt = this.start0;
      this.connection.write(this.request);
    } else {
      this.connectedAt = 0;
      const { localAddresses } = this.run.options;
      this.clientAddress = localAddresses?.length
        ? localAddresses[(index + this.index) % localAddresses.length]
        : undefined;
      const { host, port } = this.run;
      this.connection = this.run.connect({ host, port, localAddress: this.clientAddress }, this);
    }
  }

  /** Drops the request in flight, if any, and ends this slot. */
  abandon(): void {
    this.pending = false;
    this.dropConnection();
    this.done();
  }

  expireIfStartedBefore(limit: number): void {
    if (this.pending && this.start0 < limit) this.finish('exception');
  }

  connected(): void {
    this.connectedAt = performance.now();
    this.connection?.write(this.request);
  }

  data(chunk: Uint8Array): void {
    if (!this.pending) return;
    if (!this.firstByteAt) this.firstByteAt = performance.now();
    this.bytes += chunk.length;
    if (this.parser.push(chunk)) this.finish();
  }

  end(): void {
    this.dropConnection();
    if (!this.pending) return;
    // Not a byte back on a kept-alive connection: the server had closed it while idle (its
    // keep-alive timeout) before the request reached it. As ab does, send it again on a new one.
    if (this.reused && this.bytes === 0) this.send(this.requestIndex);
    else this.finish(this.parser.head ? undefined : 'receive');
  }

  failed(code: string, phase: FailurePhase): void {
    this.connection = undefined;
    if (!this.pending) return;
    if (phase === 'connect') {
      this.finish('connect');
    } else if (phase === 'read' || this.parser.head) {
      // A failed read (ECONNRESET…) is ab's receive error; ab stops the run on one unless -r.
      if (this.run.options.stopOnReceiveError) this.run.stopOnReceiveError(code);
      else this.finish('receive');
    } else {
      this.finish('exception');
    }
  }

  private dropConnection(): void {
    this.connection?.close();
    this.connection = undefined;
  }

  private finish(failure?: RequestSample['failure']): void {
    if (!this.pending) return;
    this.pending = false;
    const end = performance.now();
    const { head, bodyBytes, bodyStart } = this.parser;
    const keep =
      !failure &&
      this.run.options.keepAlive &&
      head !== undefined &&
      head.contentLength !== undefined &&
      head.connection === 'keep-alive';
    if (!keep) this.dropConnection();
    const connected = this.connectedAt || end;
    this.run.record({
      startMs: this.start0 - this.run.started,
      connectMs: connected - this.start0,
      waitingMs: this.firstByteAt ? this.firstByteAt - connected : 0,
      totalMs: end - this.start0,
      status: head?.status ?? 0,
      bodyBytes,
      totalBytes: this.bytes,
      pod: failure ? undefined : this.run.podOf(head, bodyStart),
      serverSoftware: this.run.interned(head?.server),
      reusedConnection: this.reused,
      clientAddress: this.clientAddress,
      failure,
    });
    // finish() always runs from a connection event or the timeout sweep, never from sendNext
    // itself, so this never nests: the next request starts at once, without another turn of the
    // event loop.
    this.sendNext();
  }
}
