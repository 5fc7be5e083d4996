import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../lib/processes.js';

export interface NginxTarget {
  readonly url: string;
  /** CPU seconds (user + system) nginx's worker processes have used so far. */
  workerCpuSeconds(): number;
  stop(): Promise<void>;
}

/**
 * nginx in the foreground (`daemon off`) with a config of our own in a temp dir, serving one small
 * static file on a loopback port, without access logs: one target every load generator shares.
 */
export async function startNginx(workers = 1): Promise<NginxTarget> {
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-bench-nginx-'));
  // nginx's workers may run as another user (nobody when started as root): let them read the file.
  chmodSync(dir, 0o755);
  const port = await freePort();
  writeFileSync(join(dir, 'index.html'), '<html><body><h1>kproxy bench target</h1></body></html>\n');
  const temp = (name: string) => `${name}_temp_path ${join(dir, name)};`;
  writeFileSync(
    join(dir, 'nginx.conf'),
    `daemon off;
worker_processes ${workers};
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 4096; }
http {
  access_log off;
  ${['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(temp).join('\n  ')}
  keepalive_requests 1000000;
  server { listen 127.0.0.1:${port} backlog=4096; root ${dir}; }
}
`,
  );
  const child: ChildProcess = spawn('nginx', ['-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], {
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}/index.html`;
  const stop = async () => {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGQUIT');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitUntilServing(url);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, stop, workerCpuSeconds: () => childrenCpuSeconds(child.pid ?? 0) };
}

/** utime + stime of a process's children (nginx's workers under its master), from /proc. */
function childrenCpuSeconds(pid: number): number {
  const ticksPerSecond = 100;
  let total = 0;
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/);
  for (const child of children.filter(Boolean)) {
    // The fields after the command name (which ends with ')'): utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${child}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    total += (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  }
  return total;
}

async function waitUntilServing(url: string): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`nginx did not start serving ${url}`);
}
