import { type ChildProcess, spawn } from 'node:child_process';
import { createNetns, deleteNetns, runChecked, runCommand } from '../../../src/dataplanes/netns.js';

/**
 * A node in a private network namespace: pods in their own namespaces on a bridge (10.180.0.i),
 * an outside client (192.168.50.2 and .3) on a link to the node (192.168.50.1), each pod serving
 * its name over TCP on port 8080. Nothing touches the host's namespace.
 */

export const labNodeIP = '192.168.50.1';
export const labClientIPs = ['192.168.50.2', '192.168.50.3'] as const;
export const podPort = 8080;

export interface Lab {
  readonly node: string;
  readonly client: string;
  readonly podIPs: readonly string[];
  destroy(): Promise<void>;
}

/** Why kernel tests cannot run here, or undefined when they can. */
export async function kernelTestsUnavailable(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'kernel tests need root (network namespaces and iptables)';
  const probe = await runCommand(['iptables-restore', '--version']);
  if (probe.code !== 0) return 'iptables-restore is not installed';
  return undefined;
}

/** Skip with a visible reason; under CI=true a skip is a failure. */
export function skipReason(reason: string | undefined): string | false {
  if (reason && process.env.CI === 'true') throw new Error(`kernel tests must run in CI: ${reason}`);
  return reason ?? false;
}

/** A tiny HTTP/1.0 server that answers every request with its pod name (so wrk and ab can load it too). */
const serverScript = `
const name = process.argv[1];
const response = 'HTTP/1.0 200 OK\\r\\nContent-Length: ' + name.length + '\\r\\nConnection: close\\r\\n\\r\\n' + name;
require('node:net').createServer((s) => { s.once('data', () => s.end(response)); s.on('error', () => {}); }).listen(${podPort}, '::', () => console.log('ready'));
`;

export async function createLab(tag: string, podCount: number): Promise<Lab> {
  const base = `kp-ipt-${process.pid}-${tag}`;
  const node = `${base}-n`;
  const client = `${base}-c`;
  const pods = Array.from({ length: podCount }, (_, i) => `${base}-p${i + 1}`);
  const servers: ChildProcess[] = [];
  const destroy = async () => {
    for (const server of servers) server.kill();
    for (const ns of [node, client, ...pods]) await deleteNetns(ns);
  };
  try {
    for (const ns of [node, client, ...pods]) await createNetns(ns);
    const inNode = (argv: string[]) => runChecked(argv, { netns: node });
    await inNode(['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    await inNode(['ip', 'link', 'add', 'br0', 'type', 'bridge']);
    await inNode(['ip', 'addr', 'add', '10.180.0.254/24', 'dev', 'br0']);
    await inNode(['ip', 'link', 'set', 'br0', 'up']);
    // Like a node's default route: Service IPs and unknown destinations are routable, so filter rules decide.
    await inNode(['ip', 'route', 'add', 'default', 'dev', 'br0']);
    await link(node, 'vc', client, [`${labClientIPs[0]}/24`, `${labClientIPs[1]}/24`], labNodeIP);
    await inNode(['ip', 'addr', 'add', `${labNodeIP}/24`, 'dev', 'vc']);
    for (const [i, pod] of pods.entries()) {
      await link(node, `vp${i + 1}`, pod, [`10.180.0.${i + 1}/24`], '10.180.0.254');
      await inNode(['ip', 'link', 'set', `vp${i + 1}`, 'master', 'br0']);
      servers.push(await startServer(pod, `pod${i + 1}`));
    }
  } catch (error) {
    await destroy();
    throw error;
  }
  return { node, client, podIPs: pods.map((_, i) => `10.180.0.${i + 1}`), destroy };
}

/** A veth pair: `hostSide` in `node`, `eth0` in `peer` with `addresses` and a default route via `gateway`. */
async function link(
  node: string,
  hostSide: string,
  peer: string,
  addresses: string[],
  gateway: string,
): Promise<void> {
  await runChecked(['ip', 'link', 'add', hostSide, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', peer], {
    netns: node,
  });
  await runChecked(['ip', 'link', 'set', hostSide, 'up'], { netns: node });
  for (const address of addresses)
    await runChecked(['ip', 'addr', 'add', address, 'dev', 'eth0'], { netns: peer });
  await runChecked(['ip', 'link', 'set', 'eth0', 'up'], { netns: peer });
  await runChecked(['ip', 'route', 'add', 'default', 'via', gateway], { netns: peer });
}

export function startServer(netns: string, name: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', netns, process.execPath, '-e', serverScript, name], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const timer = setTimeout(() => reject(new Error(`pod server in ${netns} did not start`)), 10_000);
    child.stdout.once('data', () => {
      clearTimeout(timer);
      resolve(child);
    });
    child.once('error', reject);
  });
}

export interface ConnectResult {
  /** Pod name → connections it answered. */
  readonly pods: Record<string, number>;
  /** Error code (ECONNREFUSED, ETIMEDOUT …) → count. */
  readonly errors: Record<string, number>;
}

const clientScript = `
const net = require('node:net');
const [host, port, count, localAddress, timeout] = process.argv.slice(1);
const pods = {}, errors = {};
function once() {
  return new Promise((resolve) => {
    let data = '';
    const s = net.connect({ host, port: Number(port), localAddress: localAddress || undefined });
    s.setTimeout(Number(timeout), () => { s.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })); });
    s.on('connect', () => s.write('GET / HTTP/1.0\\r\\n\\r\\n'));
    s.on('data', (d) => { data += d; });
    s.on('end', () => { const pod = data.split('\\r\\n\\r\\n')[1]; pods[pod] = (pods[pod] || 0) + 1; resolve(); });
    s.on('error', (e) => { errors[e.code] = (errors[e.code] || 0) + 1; resolve(); });
  });
}
(async () => { for (let i = 0; i < Number(count); i++) await once(); console.log(JSON.stringify({ pods, errors })); })();
`;

/** Opens `count` connections one after another from inside `netns` and reports who answered. */
export async function connectMany(
  netns: string,
  target: { host: string; port: number; count: number; localAddress?: string; timeoutMs?: number },
): Promise<ConnectResult> {
  const argv = [
    process.execPath,
    '-e',
    clientScript,
    target.host,
    String(target.port),
    String(target.count),
    target.localAddress ?? '',
    String(target.timeoutMs ?? 2000),
  ];
  return JSON.parse(await runChecked(argv, { netns })) as ConnectResult;
}
