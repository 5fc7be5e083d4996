import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { log } from '../log.js';
import { type BindAddress, closeHttp, formatBindAddress, listenHttp } from './bind-address.js';
import type { RunningServer } from './healthz.js';
import type { ProxyMetrics } from './metrics.js';

export interface MetricsServerOptions {
  readonly address: BindAddress;
  readonly metrics: ProxyMetrics;
}

/**
 * The server on `metricsBindAddress`, with kube-proxy's paths: `/metrics` (Prometheus text),
 * `/proxyMode` (the mode in use, as text) and `/healthz` (the process is up: always "ok").
 */
export async function startMetricsServer(options: MetricsServerOptions): Promise<RunningServer> {
  const server = createServer((request, response) => {
    answer(options.metrics, request, response).catch((error: unknown) => {
      response.writeHead(500, { 'Content-Type': 'text/plain' }).end(`${String(error)}\n`);
    });
  });
  const address = await listenHttp(server, options.address, 'metricsBindAddress');
  log.info('metrics-server.ts', 'Starting metrics server', { address: formatBindAddress(address) }, 3);
  return { address, close: () => closeHttp(server) };
}

async function answer(
  metrics: ProxyMetrics,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const path = new URL(request.url ?? '/', 'http://localhost').pathname;
  if (path === '/metrics') {
    const text = await metrics.text();
    response.writeHead(200, { 'Content-Type': metrics.registry.contentType }).end(text);
  } else if (path === '/proxyMode') {
    response.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' }).end(metrics.options.mode);
  } else if (path === '/healthz') {
    response.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' }).end('ok');
  } else {
    response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('404 page not found\n');
  }
}
