import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { Endpoint } from '../../../src/model/endpoint.js';
import type { ProxyState, ServicePortState } from '../../../src/model/proxy-state.js';
import { freezeProxyState } from '../../../src/model/proxy-state.js';

/**
 * A TCP pod: greets each connection with `name|`, echoes what it gets, and answers the client's
 * FIN with `|end` and its own FIN — so a client sees `name|payload|end` only if the proxy passed
 * the half-close on while keeping the other direction open.
 */
export interface TcpPod {
  readonly name: string;
  readonly host: string;
  port: number;
  readonly server: Server;
  readonly sockets: Set<Socket>;
  /** Stops listening and resets every open connection, as a crashed pod would. */
  kill(): Promise<void>;
}

export async function startTcpPod(name: string, host = '127.0.0.1'): Promise<TcpPod> {
  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.write(`${name}|`);
    socket.on('data', (data) => socket.write(data));
    socket.on('end', () => socket.end('|end'));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    name,
    host,
    port,
    server,
    sockets,
    kill: async () => {
      for (const socket of sockets) socket.resetAndDestroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface UdpPod {
  readonly name: string;
  readonly port: number;
  readonly socket: UdpSocket;
  close(): void;
}

/** A UDP pod answering each datagram with `name:datagram`. */
export async function startUdpPod(name: string): Promise<UdpPod> {
  const socket = createSocket('udp4');
  socket.on('message', (message, from) => socket.send(`${name}:${message}`, from.port, from.address));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { name, port: socket.address().port, socket, close: () => socket.close() };
}

export function podEndpoint(
  pod: { name: string; port: number },
  overrides: Partial<Endpoint> = {},
): Endpoint {
  return {
    ip: '127.0.0.1',
    port: pod.port,
    ready: true,
    serving: true,
    terminating: false,
    isLocal: true,
    podName: pod.name,
    ...overrides,
  };
}

/** A service port with the given endpoints for both cluster and external traffic. */
export function servicePortState(
  endpoints: readonly Endpoint[],
  overrides: Partial<ServicePortState> = {},
): ServicePortState {
  return {
    id: 'default/web:http',
    namespace: 'default',
    name: 'web',
    portName: 'http',
    protocol: 'TCP',
    port: 80,
    clusterIPs: ['10.96.0.10'],
    externalIPs: [],
    loadBalancerIPs: [],
    loadBalancerSourceRanges: [],
    sessionAffinity: { type: 'None', timeoutSeconds: 10800 },
    externalTrafficPolicy: 'Cluster',
    internalTrafficPolicy: 'Cluster',
    clusterEndpoints: endpoints,
    externalEndpoints: endpoints,
    allReachableEndpoints: endpoints,
    hasAnyEndpoints: endpoints.length > 0,
    ...overrides,
  };
}

export function stateOf(...ports: ServicePortState[]): ProxyState {
  return freezeProxyState('test-node', ports);
}

export interface ExchangeOptions {
  readonly localAddress?: string;
  /** The frontend's address (127.0.0.1 unless given). */
  readonly host?: string;
}

/** Connects, sends `payload`, half-closes, and resolves with everything read until the server's FIN. */
export function tcpExchange(port: number, payload: string, options: ExchangeOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: options.host ?? '127.0.0.1',
      port,
      localAddress: options.localAddress,
      allowHalfOpen: true,
    });
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => {
      received += chunk;
    });
    socket.on('connect', () => socket.end(payload));
    socket.on('end', () => resolve(received));
    socket.on('error', reject);
  });
}

/** An open connection and the pod name it was greeted with. */
export interface OpenConnection {
  readonly socket: Socket;
  readonly pod: string;
}

export function openConnection(port: number, options: ExchangeOptions = {}): Promise<OpenConnection> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: '127.0.0.1',
      port,
      localAddress: options.localAddress,
      allowHalfOpen: true,
    });
    socket.setEncoding('utf8');
    socket.once('data', (greeting: string) => resolve({ socket, pod: greeting.replace(/\|$/, '') }));
    socket.once('error', reject);
  });
}

/** Sends `text` on an open connection and resolves with the echo. */
export function echo(socket: Socket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = '';
    const onData = (chunk: string) => {
      received += chunk;
      if (received.length >= text.length) {
        socket.off('data', onData);
        resolve(received);
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write(text);
  });
}

/** Resolves once `condition` holds, polling every 10 ms; rejects after `limitMs` (a bound, not a timing claim). */
export async function eventually(condition: () => boolean, limitMs = 5000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > limitMs) throw new Error('condition never held');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export function countBy<T>(items: readonly T[]): Map<T, number> {
  const counts = new Map<T, number>();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return counts;
}
