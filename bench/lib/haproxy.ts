import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProcess } from './processes.js';

/** HAProxy as an L4 balancer (`mode tcp`, `balance roundrobin`) in front of the backends. */
export function startHaproxy(port: number, backends: readonly string[]): Promise<ChildProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-haproxy-'));
  const config = `global
  maxconn 8000
defaults
  mode tcp
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend service
  bind 127.0.0.1:${port}
  default_backend pods
backend pods
  balance roundrobin
${backends.map((backend, i) => `  server pod${i} ${backend}`).join('\n')}
`;
  writeFileSync(join(dir, 'haproxy.cfg'), config);
  return startProcess('haproxy', ['-db', '-f', join(dir, 'haproxy.cfg')], 500);
}
