import type { Socket } from 'node:net';

/**
 * Resets a connection (RST), or just destroys it when it has already sent its FIN: Node's
 * resetAndDestroy() on a socket whose shutdown is under way never closes the handle, so the
 * connection lingers and the process later spins for ever in its exit cleanup.
 */
export function resetConnection(socket: Socket): void {
  if (socket.writableEnded || socket.destroyed) socket.destroy();
  else socket.resetAndDestroy();
}
