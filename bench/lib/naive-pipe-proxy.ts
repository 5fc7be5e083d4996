/**
 * The anchor a userspace proxy must beat: the simplest Node proxy, `socket.pipe` both ways and
 * round robin. Usage: node naive-pipe-proxy.ts PORT host:port…
 */
import { connect, createServer } from 'node:net';

const [portText = '0', ...backends] = process.argv.slice(2);
let next = 0;
const server = createServer((client) => {
  const [host = '127.0.0.1', port = '80'] = (backends[next++ % backends.length] ?? '').split(':');
  const upstream = connect(Number(port), host);
  client.pipe(upstream).pipe(client);
  client.on('error', () => upstream.destroy());
  upstream.on('error', () => client.destroy());
});
server.listen({ port: Number(portText), host: '127.0.0.1', backlog: 4096 }, () => {
  const address = server.address();
  console.log(`LISTENING ${typeof address === 'object' && address ? address.port : 0}`);
});
