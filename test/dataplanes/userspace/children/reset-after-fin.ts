/**
 * A peer resets after the other side already sent its FIN, as the splice does when one side fails
 * after the other ended. Prints "closed" once that socket is closed; the process must then exit.
 */
import { connect, createServer } from 'node:net';
import { resetConnection } from '../../../../src/dataplanes/userspace/socket-reset.js';

const server = createServer({ allowHalfOpen: true }, (socket) => {
  socket.on('error', () => {});
  socket.on('close', () => console.log('closed'));
  socket.end('bye');
  resetConnection(socket);
  server.close();
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  connect(typeof address === 'object' && address ? address.port : 0, '127.0.0.1').on('error', () => {});
});
