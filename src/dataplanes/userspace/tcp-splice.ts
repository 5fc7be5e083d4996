import type { TcpConnection } from '../../net/raw-tcp.js';
import type { TcpConnectionEntry } from './connection-table.js';

/**
 * Joins an accepted client connection to its connected upstream. Bytes flow both ways with
 * back-pressure: while a write waits in the kernel, the side it came from is not read, so
 * nothing buffers without bound. A FIN from either side is passed on as a FIN (half-close); once
 * both directions have ended, both connections close. A connection that fails (a reset, a failed
 * write, the data plane dropping it) resets the other. Keeps the backend's byte counters and the
 * connection's IPVS state; the connection table closes it when it has been idle too long
 * (tcpTimeout, or tcpFinTimeout once half-closed).
 */
export function spliceTcp(client: TcpConnection, upstream: TcpConnection, entry: TcpConnectionEntry): void {
  const { backend } = entry;
  let directionsDone = 0;
  const expire = () => {
    client.close();
    upstream.close();
  };
  entry.onExpire = expire;
  const directionDone = () => {
    if (++directionsDone === 2) expire();
  };
  let readsEnded = 0;
  const relay = (from: TcpConnection, to: TcpConnection, count: (bytes: number) => void) => {
    let ended = false;
    // A write the kernel took later lets its source be read again, unless that source has ended.
    const flushed = () => {
      if (!ended) from.resume();
    };
    from.read({
      data: (chunk) => {
        entry.touch();
        count(chunk.length);
        if (!to.write(chunk, flushed)) from.pause();
      },
      end: () => {
        ended = true;
        // The first FIN: from now on tcpFinTimeout applies, renewed by every byte as IPVS renews
        // its FIN_WAIT entry (a download after the request's FIN goes on).
        entry.closing();
        // Both peers have sent their FIN and every byte is out: closing sends the last FIN and
        // saves a shutdown() call (the common end of a connection).
        if (++readsEnded === 2 && from.flushed && to.flushed) expire();
        else to.end(directionDone);
      },
    });
  };
  relay(client, upstream, (bytes) => {
    backend.bytesFromClients += bytes;
  });
  relay(upstream, client, (bytes) => {
    backend.bytesToClients += bytes;
  });

  // Whichever side goes first: unless both directions ended cleanly, the other side is reset.
  let openSides = 2;
  const released = (other: TcpConnection) => () => {
    if (readsEnded < 2) other.reset();
    else other.close();
    if (--openSides === 0) entry.closed();
  };
  client.onClose(released(upstream));
  upstream.onClose(released(client));
}
