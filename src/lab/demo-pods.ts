import { createServer, type Server } from 'node:http';
import { listenError } from '../errors.js';

export interface DemoPod {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** Requests this pod answered — what the backend saw, to check the load generator against. */
  requests(): number;
  /** TCP connections open to this pod right now. */
  openConnections(): number;
  /** Stops the pod at once, dropping its open connections: a pod killed mid-run. */
  close(): Promise<void>;
}

/** The longest a request may ask the pod to hold its answer (`?hold=ms`). */
const MAX_HOLD_MS = 10_000;

/**
 * Starts a small HTTP server standing in for one of the seed's nginx pods: it answers every
 * request with its pod name, in the body and in an `X-Pod-Name` header. `?hold=ms` delays the
 * answer, which keeps the connection open that long (the lab's long-lived connections).
 */
export function startDemoPod(name: string, host: string, port = 0): Promise<DemoPod> {
  let served = 0;
  let open = 0;
  const body = Buffer.from(`<html><body><h1>${name}</h1></body></html>\n`);
  const server: Server = createServer((request, response) => {
    request.resume();
    const answer = () => {
      served++;
      response.writeHead(200, {
        'Content-Type': 'text/html',
        'Content-Length': body.length,
        'X-Pod-Name': name,
        Server: 'kproxy-demo-pod',
      });
      response.end(body);
    };
    const hold = holdMs(request.url);
    if (hold > 0) setTimeout(answer, hold);
    else answer();
  });
  server.on('connection', (socket) => {
    open++;
    socket.once('close', () => open--);
  });
  server.keepAliveTimeout = 5000;
  return new Promise((resolve, reject) => {
    server.once('error', (error) => reject(listenError(error, host, port, `demo pod ${name}`)));
    server.listen({ host, port, backlog: 4096 }, () => {
      const address = server.address();
      resolve({
        name,
        host,
        port: typeof address === 'object' && address ? address.port : port,
        requests: () => served,
        openConnections: () => open,
        close: () =>
          new Promise((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

function holdMs(url: string | undefined): number {
  const match = /[?&]hold=(\d+)/.exec(url ?? '');
  return match ? Math.min(Number(match[1]), MAX_HOLD_MS) : 0;
}
