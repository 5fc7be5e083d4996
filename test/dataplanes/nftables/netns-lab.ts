/**
 * A throwaway two-namespace lab for kernel tests: a "node" namespace (kproxy's rules, pods as
 * addresses on its loopback, a pod server) and a "client" namespace joined to it by a veth pair.
 * Nothing outside the two namespaces is touched; `destroy` deletes them.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type NftRunner, nftRunner } from '../../../src/dataplanes/nftables/nft-runner.js';

const helpers = fileURLToPath(new URL('./helpers/', import.meta.url));

/** Why kernel tests cannot run here, or undefined when they can. */
export function kernelSkipReason(): string | undefined {
  if (process.platform !== 'linux') return 'kernel tests need Linux';
  if (process.getuid?.() !== 0) return 'kernel tests need root (network namespaces, nft)';
  try {
    execFileSync('nft', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'nft is not installed';
  }
  return undefined;
}

/** Skips visibly without root; under CI=true a skip is a failure. */
export function kernelTestOptions(): { skip?: string } {
  const reason = kernelSkipReason();
  if (reason && process.env.CI === 'true') throw new Error(`CI=true but ${reason}`);
  return reason ? { skip: reason } : {};
}

function sh(args: string[]): string {
  return execFileSync(args[0] as string, args.slice(1), { encoding: 'utf8' });
}

export class NetnsLab {
  readonly node: string;
  readonly client: string;
  readonly nodeIP = '192.168.50.1';
  /** Client addresses; .2 is the first. */
  readonly clientIPs = Array.from({ length: 8 }, (_, i) => `192.168.50.${i + 2}`);
  private readonly servers: ChildProcess[] = [];

  constructor(tag: string) {
    this.node = `kp-${tag}-${process.pid}-n`;
    this.client = `kp-${tag}-${process.pid}-c`;
  }

  create(): void {
    const veth = `kpv${process.pid % 100000}`;
    sh(['ip', 'netns', 'add', this.node]);
    sh(['ip', 'netns', 'add', this.client]);
    sh([
      'ip',
      'link',
      'add',
      `${veth}n`,
      'netns',
      this.node,
      'type',
      'veth',
      'peer',
      'name',
      `${veth}c`,
      'netns',
      this.client,
    ]);
    const inNode = (...args: string[]) => sh(['ip', 'netns', 'exec', this.node, ...args]);
    const inClient = (...args: string[]) => sh(['ip', 'netns', 'exec', this.client, ...args]);
    inNode('ip', 'link', 'set', 'lo', 'up');
    inNode('ip', 'addr', 'add', `${this.nodeIP}/24`, 'dev', `${veth}n`);
    inNode('ip', 'link', 'set', `${veth}n`, 'up');
    // Service addresses not DNATed (no endpoints) must route somewhere, so the forward hook sees them.
    inNode('ip', 'link', 'add', 'kp-svc', 'type', 'bridge');
    inNode('ip', 'link', 'set', 'kp-svc', 'up');
    inNode('ip', 'route', 'add', '172.30.0.0/16', 'dev', 'kp-svc');
    inNode('sysctl', '-qw', 'net.ipv4.ip_forward=1');
    inClient('ip', 'link', 'set', 'lo', 'up');
    for (const ip of this.clientIPs) inClient('ip', 'addr', 'add', `${ip}/24`, 'dev', `${veth}c`);
    inClient('ip', 'link', 'set', `${veth}c`, 'up');
    inClient('ip', 'route', 'add', 'default', 'via', this.nodeIP);
  }

  /** IPv6 beside IPv4: node fd00:50::1, clients fd00:50::2…, pods added by startPods as /128s. */
  addIPv6(): void {
    const veth = `kpv${process.pid % 100000}`;
    sh([
      'ip',
      'netns',
      'exec',
      this.node,
      'ip',
      '-6',
      'addr',
      'add',
      'fd00:50::1/64',
      'dev',
      `${veth}n`,
      'nodad',
    ]);
    sh(['ip', 'netns', 'exec', this.node, 'ip', '-6', 'route', 'add', 'fd00:30::/64', 'dev', 'kp-svc']);
    sh(['ip', 'netns', 'exec', this.node, 'sysctl', '-qw', 'net.ipv6.conf.all.forwarding=1']);
    sh([
      'ip',
      'netns',
      'exec',
      this.client,
      'ip',
      '-6',
      'addr',
      'add',
      'fd00:50::2/64',
      'dev',
      `${veth}c`,
      'nodad',
    ]);
    sh(['ip', 'netns', 'exec', this.client, 'ip', '-6', 'route', 'add', 'default', 'via', 'fd00:50::1']);
  }

  nft(): NftRunner {
    return nftRunner(['ip', 'netns', 'exec', this.node, 'nft']);
  }

  /** Puts pods (addresses on the node's loopback) up, each answering on `port`. */
  async startPods(ips: readonly string[], port: number, http = false): Promise<void> {
    for (const ip of ips) {
      const prefix = ip.includes(':')
        ? ['-6', 'addr', 'add', `${ip}/128`, 'dev', 'lo', 'nodad']
        : ['addr', 'add', `${ip}/32`, 'dev', 'lo'];
      sh(['ip', 'netns', 'exec', this.node, 'ip', ...prefix]);
    }
    const child = spawn(
      'ip',
      [
        'netns',
        'exec',
        this.node,
        process.execPath,
        '--import',
        'tsx',
        `${helpers}pod-server.ts`,
        ...(http ? ['--http'] : []),
        ...ips.map((ip) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`)),
      ],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    this.servers.push(child);
    await new Promise<void>((resolve, reject) => {
      child.stdout?.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('ready')) resolve();
      });
      child.on('exit', (code) => reject(new Error(`pod server exited ${code}`)));
    });
  }

  /** Connections from the client namespace; each result is the pod's `ip:port` or an error code. */
  connect(
    host: string,
    port: number,
    count: number,
    sources = [this.clientIPs[0] as string],
    timeoutMs = 1500,
  ): string[] {
    const job = JSON.stringify({ host, port, count, sources, timeoutMs });
    const out = sh([
      'ip',
      'netns',
      'exec',
      this.client,
      process.execPath,
      '--import',
      'tsx',
      `${helpers}client.ts`,
      job,
    ]);
    return JSON.parse(out) as string[];
  }

  /** Runs a command in the client namespace and returns its output (load tools, for benchmarks). */
  inClient(args: readonly string[]): string {
    return sh(['ip', 'netns', 'exec', this.client, ...args]);
  }

  destroy(): void {
    for (const server of this.servers) server.kill();
    for (const ns of [this.client, this.node]) {
      try {
        sh(['ip', 'netns', 'del', ns]);
      } catch {
        // already gone
      }
    }
  }
}

/** Counts of each distinct value. */
export function tally(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

/** Pearson's chi-square statistic against a uniform spread over `categories`. */
export function chiSquareUniform(counts: Record<string, number>, categories: readonly string[]): number {
  const total = categories.reduce((sum, c) => sum + (counts[c] ?? 0), 0);
  const expected = total / categories.length;
  return categories.reduce((sum, c) => sum + ((counts[c] ?? 0) - expected) ** 2 / expected, 0);
}
