import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { ResponseParser } from './response-parser.js';
import type { LoadRun, RequestSample } from './sample.js';

export interface LoadOptions {
  readonly url: URL;
  /** Number of requests (ab -n). */
  readonly requests: number;
  /** Requests in flight at once (ab -c). */
  readonly concurrency: number;
  /** Reuse connections (ab -k); otherwise a new TCP connection per request, as ab does. */
  readonly keepAlive: boolean;
  /** Per-request timeout in milliseconds (ab -s, default 30 s). */
  readonly timeoutMs?: number;
  /** Response header naming the pod that answered. */
  readonly podHeader?: string;
}

/**
 * Sends `requests` HTTP/1.0 GETs at `concurrency`, like ab: each of `concurrency` workers sends
 * one request at a time, over a new connection unless keep-alive is on. Records one sample per
 * request; aggregation and printing happen elsewhere.
 */
export async function runLoad(options: LoadOptions): Promise<LoadRun> {
  const request = Buffer.from(requestText(options.url, options.keepAlive));
  const samples: RequestSample[] = [];
  let issued = 0;
  const started = performance.now();
  const worker = async () => {
    let socket: Socket | undefined;
    while (issued < options.requests) {
      issued++;
      const result = await sendRequest({ ...options, request, socket, runStart: started });
      samples.push(result.sample);
      socket = result.reusable;
    }
    socket?.destroy();
  };
  const workers = Math.max(1, Math.min(options.concurrency, options.requests));
  await Promise.all(Array.from({ length: workers }, worker));
  return {
    url: options.url,
    concurrency: options.concurrency,
    keepAlive: options.keepAlive,
    durationMs: performance.now() - started,
    samples,
  };
}

function requestText(url: URL, keepAlive: boolean): string {
  const lines = [
    `GET ${url.pathname}${url.search} HTTP/1.0`,
    `Host: ${url.host}`,
    'User-Agent: kproxy-bench',
    'Accept: */*',
  ];
  if (keepAlive) lines.push('Connection: Keep-Alive');
  return `${lines.join('\r\n')}\r\n\r\n`;
}

interface SendOptions extends LoadOptions {
  readonly request: Buffer;
  readonly socket?: Socket;
  readonly runStart: number;
}

interface SendResult {
  readonly sample: RequestSample;
  /** The connection, when the server kept it open for another request. */
  readonly reusable?: Socket;
}

function sendRequest(options: SendOptions): Promise<SendResult> {
  return new Promise((resolve) => {
    const start = performance.now();
    const reused = options.socket !== undefined && !options.socket.destroyed;
    const socket =
      reused && options.socket
        ? options.socket
        : connect({ host: options.url.hostname, port: portOf(options.url) });
    const parser = new ResponseParser();
    let connected = reused ? start : 0;
    let firstByte = 0;
    let bytes = 0;
    let settled = false;

    const finish = (failure?: RequestSample['failure']) => {
      if (settled) return;
      settled = true;
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', onError);
      socket.setTimeout(0);
      const end = performance.now();
      const head = parser.head;
      const keep =
        !failure && options.keepAlive && head?.headers.get('connection')?.toLowerCase() === 'keep-alive';
      if (!keep) socket.destroy();
      resolve({
        sample: {
          startMs: start - options.runStart,
          connectMs: connected ? connected - start : end - start,
          waitingMs: firstByte ? firstByte - (connected || start) : 0,
          totalMs: end - start,
          status: head?.status ?? 0,
          bodyBytes: parser.bodyBytes,
          totalBytes: bytes,
          pod: head?.headers.get(options.podHeader ?? 'x-pod-name'),
          serverSoftware: head?.headers.get('server'),
          failure,
        },
        reusable: keep ? socket : undefined,
      });
    };
    const onData = (chunk: Buffer) => {
      if (!firstByte) firstByte = performance.now();
      bytes += chunk.length;
      if (parser.push(chunk) && options.keepAlive) finish();
    };
    const onEnd = () => finish(parser.head ? undefined : 'receive');
    const onError = () => finish(connected ? (parser.head ? 'receive' : 'exception') : 'connect');

    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('error', onError);
    socket.setTimeout(options.timeoutMs ?? 30_000, () => finish('exception'));
    if (reused) {
      socket.write(options.request);
    } else {
      socket.once('connect', () => {
        connected = performance.now();
        socket.write(options.request);
      });
    }
  });
}

function portOf(url: URL): number {
  if (url.port) return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}
