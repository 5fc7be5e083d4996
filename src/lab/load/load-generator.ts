import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import { buildRequest, type RequestShape } from './request.js';
import { ResponseParser } from './response-parser.js';
import { RunState } from './run-state.js';
import type { Attribution, LoadRun, RequestSample } from './sample.js';
import { type TlsSettings, tlsInfoOf } from './tls-client.js';

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
}

/**
 * Sends requests like ab: each of `concurrency` slots keeps one request in flight, over a new
 * connection each time unless keep-alive is on. One sample per request; aggregation is elsewhere.
 * Each slot is a small state machine with its handlers bound once, so a request costs no closures.
 */
export async function runLoad(options: LoadOptions): Promise<LoadRun> {
  const request = buildRequest(options.url, options);
  const run = new RunState(options, request.bytes);
  const slots = Math.max(1, Math.min(options.concurrency, options.requests));
  const running = Array.from({ length: slots }, (_, index) => new Slot(run, index));
  run.slots = running;
  await Promise.all(running.map((slot) => slot.start()));
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

/** One of the `concurrency` request loops. */
class Slot {
  private socket?: Socket;
  private parser = new ResponseParser();
  private done: () => void = () => {};
  private start0 = 0;
  private connectedAt = 0;
  private firstByteAt = 0;
  private bytes = 0;
  private reused = false;
  private pending = false;
  private clientAddress?: string;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly run: RunState,
    private readonly index: number,
  ) {}

  start(): Promise<void> {
    return new Promise((resolve) => {
      this.done = resolve;
      this.sendNext();
    });
  }

  private sendNext(): void {
    const index = this.run.next();
    if (index === undefined) {
      this.socket?.destroy();
      this.done();
      return;
    }
    this.pending = true;
    this.parser = new ResponseParser(this.run.options.method === 'HEAD');
    this.start0 = performance.now();
    this.firstByteAt = 0;
    this.bytes = 0;
    const request = this.run.requestFor(index);
    this.reused = this.socket !== undefined && !this.socket.destroyed;
    if (this.reused && this.socket) {
      this.connectedAt = this.start0;
      this.socket.write(request);
    } else {
      this.openSocket(index, request);
    }
    const timeout = this.run.options.timeoutMs ?? 30_000;
    this.timer = setTimeout(this.onTimeout, timeout);
  }

  private openSocket(index: number, request: Buffer): void {
    const { localAddresses } = this.run.options;
    this.clientAddress = localAddresses?.length
      ? localAddresses[(index + this.index) % localAddresses.length]
      : undefined;
    this.connectedAt = 0;
    const { host, port, tlsOptions } = this.run;
    const localAddress = this.clientAddress;
    const socket = tlsOptions
      ? connectTls({ ...tlsOptions, host, port, ...(localAddress ? { localAddress } : {}) })
      : connect({ host, port, localAddress });
    // One write per request: Nagle only matters when a kept-alive connection writes again.
    if (this.run.options.keepAlive) socket.setNoDelay(true);
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => this.onData(socket, chunk));
    socket.on('end', () => this.onEnd(socket));
    socket.on('error', (error: NodeJS.ErrnoException) => this.onError(socket, error));
    // As ab measures it, a TLS connection is connected once its handshake is done.
    socket.once(tlsOptions ? 'secureConnect' : 'connect', () => {
      this.connectedAt = performance.now();
      if (tlsOptions && !this.run.tlsInfo) {
        this.run.tlsInfo = tlsInfoOf(socket as TLSSocket, this.run.serverName);
      }
      socket.write(request);
    });
  }

  /** Drops the request in flight, if any, and ends this slot. */
  abandon(): void {
    if (this.pending) {
      this.pending = false;
      clearTimeout(this.timer);
    }
    this.socket?.destroy();
    this.socket = undefined;
    this.done();
  }

  private onData(socket: Socket, chunk: Buffer): void {
    if (socket !== this.socket || !this.pending) return;
    if (!this.firstByteAt) this.firstByteAt = performance.now();
    this.bytes += chunk.length;
    if (this.parser.push(chunk)) this.finish();
  }

  private onEnd(socket: Socket): void {
    if (socket !== this.socket) return;
    if (!this.pending) {
      // The server closed an idle keep-alive connection: the next request opens a new one.
      this.socket = undefined;
      return;
    }
    this.finish(this.parser.head ? undefined : 'receive');
  }

  private onError(socket: Socket, error: NodeJS.ErrnoException): void {
    if (socket !== this.socket || !this.pending) return;
    if (!this.connectedAt) {
      this.finish('connect');
    } else if (error.syscall === 'read' || this.parser.head) {
      // A failed read (ECONNRESET…) is ab's receive error; ab stops the run on one unless -r.
      if (this.run.options.stopOnReceiveError) this.run.stopOnReceiveError(error);
      else this.finish('receive');
    } else {
      this.finish('exception');
    }
  }

  private readonly onTimeout = (): void => this.finish('exception');

  private finish(failure?: RequestSample['failure']): void {
    if (!this.pending) return;
    this.pending = false;
    clearTimeout(this.timer);
    const end = performance.now();
    const { head, bodyBytes, bodyStart } = this.parser;
    const keep =
      !failure &&
      this.run.options.keepAlive &&
      head !== undefined &&
      head.contentLength !== undefined &&
      head.headers.get('connection')?.toLowerCase() === 'keep-alive';
    if (!keep) {
      this.socket?.destroy();
      this.socket = undefined;
    }
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
      serverSoftware: head?.headers.get('server'),
      reusedConnection: this.reused,
      clientAddress: this.clientAddress,
      failure,
    });
    // finish() always runs from a socket event or a timer, never from sendNext itself, so this
    // never nests: the next request starts at once, without another turn of the event loop.
    this.sendNext();
  }
}
