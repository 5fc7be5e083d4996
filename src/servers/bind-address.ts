import type { Server } from 'node:http';
import { isIP } from 'node:net';
import { KproxyError, listenError } from '../errors.js';

/** Where a server listens. An empty host means every address (IPv6 and IPv4 where the host has both). */
export interface BindAddress {
  readonly host: string;
  /** 0 picks a free port (tests). */
  readonly port: number;
}

/** kube-proxy's defaults for `healthzBindAddress` and `metricsBindAddress`. */
export const defaultHealthzBindAddress = '0.0.0.0:10256';
export const defaultMetricsBindAddress = '127.0.0.1:10249';

/**
 * Parses a KubeProxyConfiguration bind address: `IP:port`, `[IPv6]:port`, `:port`, or a bare IP
 * (which takes `defaultPort`). An empty string means kube-proxy's default, as in the seed's
 * `healthzBindAddress: ""`.
 */
export function parseBindAddress(text: string, field: string, fallback: string): BindAddress {
  const value = text.trim() === '' ? fallback : text.trim();
  const fallbackPort = Number(fallback.slice(fallback.lastIndexOf(':') + 1));
  if (isIP(value) !== 0) return { host: value, port: fallbackPort };
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d+)$/.exec(value);
  const host = match?.[1] ?? match?.[2] ?? '';
  const port = Number(match?.[3]);
  if (!match || (host !== '' && isIP(host) === 0) || !Number.isInteger(port) || port > 65535) {
    throw new KproxyError('KPROXY_E_CONFIG', `${field}: "${text}" is not an address to listen on`, {
      hint: `write IP:port, e.g. "${fallback}" (or "" for that default)`,
    });
  }
  return { host, port };
}

/** `host:port` as Go prints a listen address (`:31402` when the host is empty). */
export function formatBindAddress(address: BindAddress): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

/**
 * Starts `server` on `address` and resolves with the port actually bound; rejects with
 * KPROXY_E_PORT_IN_USE (naming the port and `purpose`) when the address is taken.
 */
export function listenHttp(server: Server, address: BindAddress, purpose: string): Promise<BindAddress> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(listenError(error, address.host, address.port, purpose));
    server.once('error', onError);
    const host = address.host === '' ? undefined : address.host;
    server.listen({ host, port: address.port }, () => {
      server.off('error', onError);
      const bound = server.address();
      resolve({ host: address.host, port: typeof bound === 'object' && bound ? bound.port : address.port });
    });
  });
}

/** Closes `server` and every connection it holds (keep-alive probes included). */
export function closeHttp(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
