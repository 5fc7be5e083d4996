/**
 * Pods for kernel tests and benchmarks: listens on every `ip:port` given (inside a namespace) and answers each
 * connection with the address it was reached at, then closes. Prints "ready" once listening.
 */
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';

/** `--http` answers HTTP (for load tools such as ab) instead of a bare line. */
const http = process.argv[2] === '--http';
const addresses = process.argv.slice(http ? 3 : 2);
let listening = 0;
for (const address of addresses) {
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(colon + 1));
  const server = http
    ? createHttpServer((request, response) => response.end(`${request.socket.localAddress}\n`))
    : createServer((socket) => {
        socket.end(`${socket.localAddress}:${socket.localPort}`);
        socket.on('error', () => {});
      });
  server.listen({ host, port }, () => {
    listening++;
    if (listening === addresses.length) process.stdout.write('ready\n');
  });
}
