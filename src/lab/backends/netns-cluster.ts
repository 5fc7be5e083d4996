import { type ChildProcess, spawn } from 'node:child_process';
import { createNetns, deleteNetns, runChecked } from '../../dataplanes/netns.js';
import { KproxyError } from '../../errors.js';
import type { ProxyState } from '../../model/proxy-state.js';
import type { LabCluster, LabPod } from './lab-backend.js';
import { labPodName, labServiceState } from './lab-service.js';

export const NODE_IP = '192.168.50.1';
export const CLIENT_IP = '192.168.50.2';
export const CLUSTER_IP = '10.96.0.80';
const POD_PORT = 8080;
const BRIDGE_IP = '10.180.0.254';

let clusters = 0;

/**
 * A node in a private network namespace, for a kernel data plane: each pod in its own namespace
 * on a bridge (10.180.0.1, .2, …, port 8080), the clients in another namespace linked to the node
 * (192.168.50.2 → 192.168.50.1). Nothing touches the host's own namespace; `stop` deletes it all.
 */
export class NetnsCluster implements LabCluster {
  private readonly pods: NetnsPod[] = [];
  private readonly removed = new Set<string>();
  /** A pod started ahead, so that adding one mid-run is instant (a pod boots in about a second). */
  private spare?: NetnsPod;

  private constructor(
    readonly node: string,
    readonly client: string,
    private readonly base: string,
  ) {}

  static async start(podCount: number): Promise<NetnsCluster> {
    const base = `kp-lab-${process.pid}-${clusters++}`;
    const cluster = new NetnsCluster(`${base}-n`, `${base}-c`, base);
    try {
      await cluster.setUpNode();
      for (let i = 0; i < podCount; i++) cluster.pods.push(await cluster.startPod(i));
      cluster.spare = await cluster.startPod(podCount);
    } catch (error) {
      await cluster.stop();
      throw new KproxyError(
        'KPROXY_E_LAB',
        `could not set up the lab's network namespaces: ${String(error)}`,
        {
          hint: 'a kernel lab needs root, ip, and a kernel with veth and bridge support',
          cause: error,
        },
      );
    }
    return cluster;
  }

  allPods(): readonly LabPod[] {
    return this.pods;
  }

  async addPod(): Promise<LabPod> {
    const pod = this.spare ?? (await this.startPod(this.pods.length));
    this.spare = undefined;
    this.pods.push(pod);
    return pod;
  }

  async refreshCounts(): Promise<void> {
    await Promise.all(this.pods.map((pod) => pod.refresh()));
  }

  /** Pod `index` (from 0) in its own namespace at 10.180.0.(index + 1), on the bridge. */
  private async startPod(index: number): Promise<NetnsPod> {
    const netns = `${this.base}-p${index + 1}`;
    const ip = `10.180.0.${index + 1}`;
    await createNetns(netns);
    await this.link(`vp${index + 1}`, netns, `${ip}/24`, BRIDGE_IP);
    await runChecked(['ip', 'link', 'set', `vp${index + 1}`, 'master', 'br0'], { netns: this.node });
    const pod = new NetnsPod(labPodName(index), netns, `${ip}:${POD_PORT}`);
    await pod.start();
    return pod;
  }

  async killPod(name: string): Promise<void> {
    this.pods.find((pod) => pod.name === name)?.kill();
  }

  removeEndpoint(name: string): void {
    this.removed.add(name);
  }

  state(): ProxyState {
    const live = this.pods.filter((pod) => !this.removed.has(pod.name));
    return labServiceState(
      CLUSTER_IP,
      live.map((pod) => ({ name: pod.name, ip: pod.endpoint.split(':')[0] ?? '', port: POD_PORT })),
    );
  }

  async stop(): Promise<void> {
    const all = this.spare ? [...this.pods, this.spare] : this.pods;
    for (const pod of all) pod.kill();
    for (const pod of all) await deleteNetns(pod.netns);
    await deleteNetns(this.client);
    await deleteNetns(this.node);
  }

  private async setUpNode(): Promise<void> {
    await createNetns(this.node);
    await createNetns(this.client);
    const inNode = (argv: string[]) => runChecked(argv, { netns: this.node });
    await inNode(['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    await inNode(['ip', 'link', 'add', 'br0', 'type', 'bridge']);
    await inNode(['ip', 'addr', 'add', `${BRIDGE_IP}/24`, 'dev', 'br0']);
    await inNode(['ip', 'link', 'set', 'br0', 'up']);
    // As on a node, Service IPs are routable (the default route), so only the rules decide.
    await inNode(['ip', 'route', 'add', 'default', 'dev', 'br0']);
    await this.link('vc', this.client, `${CLIENT_IP}/24`, NODE_IP);
    await inNode(['ip', 'addr', 'add', `${NODE_IP}/24`, 'dev', 'vc']);
  }

  /** A veth pair: `nodeSide` in the node, `eth0` in `peer` with `address` and a default route via `gateway`. */
  private async link(nodeSide: string, peer: string, address: string, gateway: string): Promise<void> {
    const inNode = (argv: string[]) => runChecked(argv, { netns: this.node });
    await inNode(['ip', 'link', 'add', nodeSide, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', peer]);
    await inNode(['ip', 'link', 'set', nodeSide, 'up']);
    await runChecked(['ip', 'addr', 'add', address, 'dev', 'eth0'], { netns: peer });
    await runChecked(['ip', 'link', 'set', 'eth0', 'up'], { netns: peer });
    await runChecked(['ip', 'route', 'add', 'default', 'via', gateway], { netns: peer });
  }
}

/** A demo pod running as a child process in its own namespace; its counts arrive on its stdout. */
class NetnsPod implements LabPod {
  private served = 0;
  private open = 0;
  private child?: ChildProcess;
  private answers: (() => void)[] = [];

  constructor(
    readonly name: string,
    readonly netns: string,
    readonly endpoint: string,
  ) {}

  requests(): number {
    return this.served;
  }

  openConnections(): number {
    return this.open;
  }

  start(): Promise<void> {
    const child = spawn(
      'ip',
      [
        'netns',
        'exec',
        this.netns,
        process.execPath,
        ...podChildArgv(),
        this.name,
        '0.0.0.0',
        String(POD_PORT),
      ],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    this.child = child;
    let buffered = '';
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`pod ${this.name} did not start`)), 15_000);
      child.once('error', reject);
      child.stdout?.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) {
          if (line === 'ready') {
            clearTimeout(timer);
            resolve();
            continue;
          }
          const answer = line.startsWith('= ');
          const [served, open] = (answer ? line.slice(2) : line).split(' ').map(Number);
          this.served = served ?? this.served;
          this.open = open ?? this.open;
          if (answer) this.answers.shift()?.();
        }
      });
    });
  }

  /** Asks the pod for its counts and waits for the answer (at once if the pod is dead). */
  refresh(): Promise<void> {
    const child = this.child;
    if (!child?.stdin || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.answers.push(resolve);
      child.stdin?.write('?\n');
    });
  }

  /** SIGKILL, as when a pod's container dies: the kernel closes its sockets. */
  kill(): void {
    this.child?.kill('SIGKILL');
    this.open = 0;
    for (const answer of this.answers.splice(0)) answer();
  }
}

function podChildArgv(): string[] {
  const here = new URL(import.meta.url);
  here.search = '';
  if (!here.pathname.endsWith('.ts')) return [new URL('../pod-child.js', here).pathname];
  return ['--import', import.meta.resolve('tsx'), new URL('../pod-child.ts', here).pathname];
}
