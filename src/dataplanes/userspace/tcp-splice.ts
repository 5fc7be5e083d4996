import type { TcpConnection } from '../../net/raw-tcp.js';
import type { ConnectionTimeouts, TcpConnectionEntry } from './connection-table.js';

/**
 * Joins an accepted client connection to its connected upstream. Bytes flow both ways with
 * back-pressure: while a write waits in the kernel, the side it came from is not read, so
 * nothing buffers without bound. A FIN from either side is passed on as a FIN (half-close); once
 * both directions have ended, both connections close. A connection that fails (a reset, a failed
 * write, the data plane dropping it) resets the other. An established connection idle for
 * tcpTimeout, or half-closed for tcpFinTimeout, is closed as IPVS would expire its entry. Keeps
 * the backend's byte counters and the connection's IPVS state.
 *
 * The idle limit is one timer per connection that looks at the time of the last byte when it
 * fires (expireWhenIdle), rather than a timer re-armed on every read and every write.
 */
export function spliceTcp(
  client: TcpConnection,
  upstream: TcpConnection,
  entry: TcpConnectionEntry,
  timeouts: ConnectionTimeouts,
): void {
  const { backend } = entry;
  let lastActivity = Date.now();
  let directionsDone = 0;
  let finTimer: { stop(): void } | undefined;
  const expire = () => {
    client.close();
    upstream.close();
  };
  const idleTimer =
    timeouts.tcpTimeout > 0 ? expireWhenIdle(timeouts.tcpTimeout, () => lastActivity, expire) : undefined;
  const firstFin = () => {
    if (entry.state !== 'established') return;
    entry.closing();
    idleTimer?.stop();
    // As IPVS's FIN_WAIT entry, renewed by every packet: a half-closed connection still moving
    // bytes (a download after the request's FIN) lives on.
    if (timeouts.tcpFinTimeout > 0)
      finTimer = expireWhenIdle(timeouts.tcpFinTimeout, () => lastActivity, expire);
  };
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
        lastActivity = Date.now();
        count(chunk.length);
        if (!to.write(chunk, flushed)) from.pause();
      },
      end: () => {
        ended = true;
        firstFin();
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
    if (--openSides > 0) return;
    idleTimer?.stop();
    finTimer?.stop();
    entry.closed();
  };
  client.onClose(released(upstream));
  upstream.onClose(released(client));
}

/**
 * Calls `expire` once nothing has moved for `idleMs`. The timer wakes when the limit would be
 * reached had nothing moved since, and sleeps again for what is left when something did.
 */
function expireWhenIdle(idleMs: number, lastActivity: () => number, expire: () => void): { stop(): void } {
  let timer: NodeJS.Timeout;
  const check = () => {
    const idleFor = Date.now() - lastActivity();
    if (idleFor >= idleMs) expire();
    else timer = setTimeout(check, idleMs - idleFor);
  };
  timer = setTimeout(check, idleMs);
  return { stop: () => clearTimeout(timer) };
}
