/** Small loopback servers that record what a load generator put on the wire. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';

/** What a TLS server saw of one handshake. */
export interface Handshake {
  readonly protocol: string | null;
  readonly cipher: string;
  /** The SNI the client sent; false when it sent none. */
  readonly servername: string | false;
  /** The client certificate's CN, when the client sent one. */
  readonly clientCn?: string;
}

export interface WireServer {
  readonly port: number;
  /** Every request head received, in order. */
  readonly heads: string[];
  readonly handshakes: Handshake[];
  /** Whether to reset request number `n` (1, 2, …; TCP RST) instead of answering it. */
  reset: (n: number) => boolean;
  close(): Promise<void>;
}

const RESPONSE =
  'HTTP/1.0 200 OK\r\nServer: wire-test\r\nX-Pod-Name: pod-a\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello';

function serve(state: WireServer & { requests: number }): (socket: Socket) => void {
  return (socket) => {
    let buffered = '';
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      state.heads.push(buffered.slice(0, end));
      buffered = '';
      state.requests++;
      if (state.reset(state.requests)) socket.resetAndDestroy();
      else socket.end(RESPONSE);
    });
  };
}

async function listen(server: Server, host = '127.0.0.1'): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

function wireState(server: Server) {
  return {
    port: 0,
    heads: [] as string[],
    handshakes: [] as Handshake[],
    reset: (_n: number) => false,
    requests: 0,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A plain HTTP server (also usable as an "HTTP proxy": it records the absolute-URI request line). */
export async function startHttpRecorder(host = '127.0.0.1'): Promise<WireServer> {
  const server = createTcpServer();
  const state = wireState(server);
  server.on('connection', serve(state));
  state.port = await listen(server, host);
  return state;
}

/** Self-signed key and certificate PEMs for `cn`, made with openssl. */
export function selfSigned(cn: string): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-tls-'));
  try {
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-subj',
        `/CN=${cn}`,
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
      ],
      { stdio: 'ignore', timeout: 30_000 },
    );
    return { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** An HTTPS server with a self-signed certificate that asks for (but does not require) a client certificate. */
export async function startHttpsRecorder(pem: { key: string; cert: string }): Promise<WireServer> {
  const server = createTlsServer({ ...pem, requestCert: true, rejectUnauthorized: false });
  const state = wireState(server);
  server.on('secureConnection', (socket: TLSSocket) => {
    const peer = socket.getPeerCertificate();
    const cn = peer?.subject?.CN;
    state.handshakes.push({
      protocol: socket.getProtocol(),
      cipher: socket.getCipher().name,
      servername: (socket as TLSSocket & { servername: string | false }).servername,
      clientCn: Array.isArray(cn) ? cn[0] : cn,
    });
    serve(state)(socket);
  });
  state.port = await listen(server);
  return state;
}
