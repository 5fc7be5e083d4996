import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { log } from '../log.js';
import { type BindAddress, closeHttp, formatBindAddress, listenHttp } from './bind-address.js';
import type { ProxyHealth } from './proxy-health.js';

export interface HealthzServerOptions {
  readonly address: BindAddress;
  readonly health: ProxyHealth;
  /** Counts each answer (kubeproxy_proxy_healthz_total / _livez_total). */
  readonly onProbe?: (path: '/healthz' | '/livez', code: number) => void;
}

export interface RunningServer {
  /** The address bound (with the real port when 0 was asked for). */
  readonly address: BindAddress;
  close(): Promise<void>;
}

/**
 * kube-proxy's proxy health server on `healthzBindAddress`: `/healthz` is the readiness answer
 * (the proxy's health and whether the node may take traffic), `/livez` the liveness answer (the
 * proxy's health only, so a node being deleted does not make the kubelet restart kproxy). Both
 * answer 200 or 503 with kube-proxy's JSON body.
 */
export async function startHealthzServer(options: HealthzServerOptions): Promise<RunningServer> {
  const server: Server = createServer((request, response) => answerProbe(options, request, response));
  const address = await listenHttp(server, options.address, 'healthzBindAddress');
  log.info('healthz.ts', 'Starting healthz HTTP server', { address: formatBindAddress(address) }, 3);
  return { address, close: () => closeHttp(server) };
}

function answerProbe(
  options: HealthzServerOptions,
  request: IncomingMessage,
  response: ServerResponse,
): void {
  const path = new URL(request.url ?? '/', 'http://localhost').pathname;
  if (path !== '/healthz' && path !== '/livez') {
    response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('404 page not found\n');
    return;
  }
  const report = options.health.report({ withNode: path === '/healthz' });
  const code = report.healthy ? 200 : 503;
  options.onProbe?.(path, code);
  response
    .writeHead(code, { 'Content-Type': 'application/json', 'X-Content-Type-Options': 'nosniff' })
    .end(JSON.stringify(report));
}
