import { connect } from 'node:net';

export interface AskOnceOptions {
  readonly host: string;
  readonly port: number;
  /** Source address to connect from (a client IP in a test namespace). */
  readonly source?: string;
  readonly timeoutMs: number;
}

/**
 * Opens one connection and resolves with everything the server sent before closing it (a test
 * pod answers with its own address), or with the error code: ETIMEDOUT when nothing answered in time.
 */
export function askOnce(options: AskOnceOptions): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: options.host, port: options.port, localAddress: options.source });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('ETIMEDOUT');
    }, options.timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(error.code ?? 'ERROR');
    });
  });
}
