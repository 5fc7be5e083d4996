/** What the `kproxy run` tests share: the binary, a userspace config, a web Service, HTTP pods. */
import { spawn } from 'node:child_process';
import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

export const KPROXY = fileURLToPath(new URL('../../bin/kproxy.js', import.meta.url));
/**
 * Spawns `kproxy run` as node-a with `config`, its sources (`--manifests FILE` or `--master URL`)
 * and `extra` flags, its frontends on loopback: as root they would go on the host's kube-ipvs0.
 */
export function spawnKproxyRun(config: string, sources: readonly string[], extra: readonly string[] = []) {
  return spawn(process.execPath, [
    KPROXY,
    'run',
    '--config',
    config,
    ...sources,
    '--hostname-override',
    'node-a',
    ...extra,
    '--userspace-frontends',
    'loopback',
  ]);
}

export const USERSPACE_CONFIG =
  'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: "userspace"\n';

/** Service demo/web (port 80 named http) with one endpoint per address, all on `endpointPort`. */
export function webManifest(options: {
  readonly clusterIP: string;
  readonly endpointPort: number;
  readonly addresses?: readonly string[];
}): string {
  const endpoints = (options.addresses ?? ['127.0.0.1'])
    .map((ip) => `{ addresses: [${ip}], nodeName: node-a }`)
    .join(', ');
  return `apiVersion: v1
kind: Service
metadata: { name: web, namespace: demo }
spec: { clusterIP: ${options.clusterIP}, ports: [{ name: http, port: 80 }] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: web-1, namespace: demo, labels: { kubernetes.io/service-name: web } }
addressType: IPv4
ports: [{ name: http, port: ${options.endpointPort} }]
endpoints: [${endpoints}]
`;
}

/** An HTTP pod answering every request with `body`, on `host` and `port` (0: any free port). */
export async function startHttpPod(
  body: string,
  host = '127.0.0.1',
  port = 0,
): Promise<{ server: Server; port: number }> {
  const server = createServer((_, response) => response.end(body));
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

/** One request on a new connection to 127.0.0.1:port; the body. */
export function fetchText(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = get({ host: '127.0.0.1', port, path: '/', agent: false, timeout: 2000 }, (response) => {
      let body = '';
      response.on('data', (chunk) => (body += chunk));
      response.on('end', () => resolve(body));
    });
    request.on('error', reject);
    request.on('timeout', () => request.destroy(new Error('timed out')));
  });
}
