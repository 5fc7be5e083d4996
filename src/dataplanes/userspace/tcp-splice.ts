import type { Socket } from 'node:net';
import type { ConnectionTimeouts, TcpConnectionEntry } from './connection-table.js';
import { resetConnection } from './socket-reset.js';

/**
 * Joins an accepted client connection to its connected upstream. Bytes flow both ways through
 * plain 'data' handlers (cheaper than pipe()) with back-pressure: a side whose peer's buffer is
 * full is paused until the peer drains, so nothing buffers without bound. A FIN from either side
 * is passed on as a FIN (half-close); a reset on either side resets the other. An established
 * connection idle for tcpTimeout, or half-closed for tcpFinTimeout, is closed as IPVS would
 * expire its entry. Keeps the backend's byte counters and the connection's IPVS state.
 *
 * The idle limit is one timer per connection that looks at the time of the last byte when it
 * fires (expireWhenIdle): a socket timeout would be re-armed on every read and every write.
 */
export function spliceTcp(
  client: Socket,
  upstream: Socket,
  entry: TcpConnectionEntry,
  timeouts: ConnectionTimeouts,
): void {
  const { backend } = entry;
  let openSides = 2;
  const sideClosed = () => {
    if (--openSides === 0) entry.closed();
  };
  const expire = () => {
    client.destroy();
    upstream.destroy();
  };
  let lastActivity = Date.now();
  const idleTimer =
    timeouts.tcpTimeout > 0 ? expireWhenIdle(timeouts.tcpTimeout, () => lastActivity, expire) : undefined;
  const firstFin = () => {
    if (entry.state !== 'established') return;
    entry.closing();
    idleTimer?.stop();
    if (timeouts.tcpFinTimeout > 0) {
      client.setTimeout(timeouts.tcpFinTimeout);
      upstream.setTimeout(timeouts.tcpFinTimeout, expire);
    }
  };

  client.on('data', (chunk: Buffer) => {
    lastActivity = Date.now();
    backend.bytesFromClients += chunk.length;
    if (!upstream.write(chunk)) client.pause();
  });
  upstream.on('drain', () => client.resume());
  upstream.on('data', (chunk: Buffer) => {
    lastActivity = Date.now();
    backend.bytesToClients += chunk.length;
    if (!client.write(chunk)) upstream.pause();
  });
  client.on('drain', () => upstream.resume());

  client.on('end', () => {
    firstFin();
    if (!upstream.destroyed) upstream.end();
  });
  upstream.on('end', () => {
    firstFin();
    if (!client.destroyed) client.end();
  });
  client.on('timeout', expire);

  // A reset on one side resets the other; a clean close lets the other side finish its writes.
  client.on('error', () => resetConnection(upstream));
  upstream.on('error', () => resetConnection(client));
  client.on('close', (hadError) => {
    idleTimer?.stop();
    if (hadError) upstream.destroy();
    else if (!upstream.destroyed && !upstream.writableEnded) upstream.end();
    sideClosed();
  });
  upstream.on('close', (hadError) => {
    if (hadError) client.destroy();
    else if (!client.destroyed && !client.writableEnded) client.end();
    sideClosed();
  });
  client.resume();
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
