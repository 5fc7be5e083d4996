import { createServer, type Server } from 'node:http';
import { listenError } from '../errors.js';

export interface DemoPod {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** Requests this pod answered — what the backend saw, to check the load generator against. */
  requests(): number;
  close(): Promise<void>;
}

/**
 * Starts a small HTTP server standing in for one of the seed's nginx pods: it answers every
 * request with its pod name, in the body and in an `X-Pod-Name` header.
 */
export function startDemoPod(name: string, host: string, port = 0): Promise<DemoPod> {
  let served = 0;
  const body = Buffer.from(`<html><body><h1>${name}</h1></body></html>\n`);
  const server: Server = createServer((request, response) => {
    served++;
    request.resume();
    response.writeHead(200, {
      'Content-Type': 'text/html',
      'Content-Length': body.length,
      'X-Pod-Name': name,
      Server: 'kproxy-demo-pod',
    });
    response.end(body);
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
        close: () =>
          new Promise((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
