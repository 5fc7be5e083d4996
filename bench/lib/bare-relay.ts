/**
 * The floor under the userspace data plane: a relay on the same TCP handles (src/net/raw-tcp.ts)
 * with nothing above them — round robin, bytes copied both ways with back-pressure, both sides
 * closed when either ends. No scheduler, connection table, counters, timers or half-close. What
 * kproxy loses against it is the data plane's cost; what it loses against HAProxy is Node's.
 * Usage: node bare-relay.js PORT host:port…
 */
import { createServer } from 'node:net';
import { acceptTcp, connectTcp, type TcpConnection } from '../../src/net/raw-tcp.js';

const [portText = '0', ...backends] = process.argv.slice(2);
const targets = backends.map((backend) => {
  const [host = '127.0.0.1', port = '80'] = backend.split(':');
  return { host, port: Number(port) };
});
let next = 0;

function relay(from: TcpConnection, to: TcpConnection): void {
  const flushed = () => from.resume();
  from.read({
    data: (chunk) => {
      if (!to.write(chunk, flushed)) from.pause();
    },
    end: () => {
      from.close();
      to.close();
    },
  });
  from.onClose(() => to.close());
}

const server = createServer();
server.listen({ port: Number(portText), host: '127.0.0.1', backlog: 4096 }, () => {
  acceptTcp(
    server,
    (client) => {
      const target = targets[next++ % targets.length];
      if (!target) return client.close();
      connectTcp(target, (upstream) => {
        if (typeof upstream === 'string') return client.close();
        relay(client, upstream);
        relay(upstream, client);
      });
    },
    () => {},
  );
  const address = server.address();
  console.log(`LISTENING ${typeof address === 'object' && address ? address.port : 0}`);
});
