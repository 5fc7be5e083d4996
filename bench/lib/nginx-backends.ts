import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProcess } from './processes.js';

export interface Backend {
  readonly name: string;
  readonly host: string;
  readonly port: number;
}

/**
 * Starts an nginx with one worker serving the given backends (one per process stands for one pod),
 * each answering with its own name in the body and in X-Pod-Name, like the demo pods. `exec` prefixes the command, e.g.
 * `ip netns exec NS` to run it inside a namespace.
 */
export async function startNginxBackends(
  backends: readonly Backend[],
  exec: readonly string[] = [],
): Promise<ChildProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-nginx-'));
  const servers = backends
    .map(
      (b) => `  server {
    listen ${b.host}:${b.port} backlog=4096;
    access_log off;
    location / { add_header X-Pod-Name ${b.name} always; return 200 "${b.name}\\n"; }
  }`,
    )
    .join('\n');
  const config = `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events { worker_connections 8192; }
http {
  keepalive_requests 1000000;
  client_body_temp_path ${dir};
  proxy_temp_path ${dir};
  fastcgi_temp_path ${dir};
  uwsgi_temp_path ${dir};
  scgi_temp_path ${dir};
${servers}
}
`;
  writeFileSync(join(dir, 'nginx.conf'), config);
  const [command = 'nginx', ...prefix] = [...exec, 'nginx'];
  return startProcess(command, [...prefix, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], 500);
}
