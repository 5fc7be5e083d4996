import type { Dataplane } from '../../dataplanes/dataplane.js';
import { runChecked, runCommand } from '../../dataplanes/netns.js';
import type { RenderOptions } from '../../dataplanes/rule-renderer.js';
import { KproxyError } from '../../errors.js';
import type { ProxyState } from '../../model/proxy-state.js';
import type { LabMode } from '../lab-mode.js';
import type { LoadOptions } from '../load/load-generator.js';
import { runLoadInNetns } from '../load/netns-load.js';
import type { LoadRun } from '../load/sample.js';
import type { LabBackend, LabCluster, LabFrontend } from './lab-backend.js';
import { CLUSTER_IP, NetnsCluster, NODE_IP } from './netns-cluster.js';

/** The node's facts for a kernel renderer: one IPv4 node, pods in 10.180.0.0/24. */
export const labRenderOptions: RenderOptions = {
  ipFamily: 'IPv4',
  nodeIPs: [NODE_IP],
  clusterCIDRs: ['10.180.0.0/24'],
  masqueradeAll: false,
  masqueradeBit: 14,
  nodePortAddresses: [],
  localhostNodePorts: false,
  ipvsScheduler: 'rr',
};

/**
 * What every kernel lab backend shares: a NetnsCluster (node, pods and clients in private network
 * namespaces), the load sent from the clients' namespace to the cluster IP, extra client
 * addresses, and per-endpoint counters that survive syncs. A subclass supplies the data plane,
 * programmed inside the node's namespace, and how the kernel counts connections per endpoint.
 */
export abstract class KernelLabBackend implements LabBackend {
  abstract readonly name: string;
  private cluster?: NetnsCluster;
  private dataplane?: Dataplane;
  private servicePortId = '';
  /**
   * Connections counted before a sync reset some counters (a rewritten chain starts from zero; a
   * removed endpoint's rule is gone): added to what the kernel counts now.
   */
  private readonly offsets = new Map<string, number>();
  /** Client addresses already added to the clients' namespace. */
  private addedClients = 0;

  protected abstract createDataplane(mode: LabMode, nodeNetns: string): Dataplane;
  /** New connections per endpoint `ip:port` as the kernel counts them now. */
  protected abstract kernelCounters(nodeNetns: string): Promise<Map<string, number>>;

  async startCluster(podCount: number): Promise<LabCluster> {
    this.cluster = await NetnsCluster.start(podCount);
    return this.cluster;
  }

  async start(mode: LabMode, state: ProxyState): Promise<LabFrontend> {
    this.dataplane = this.createDataplane(mode, this.requireCluster().node);
    this.servicePortId = [...state.servicePorts.keys()][0] ?? '';
    const failure = [...(await this.dataplane.sync(state, new Set())).failed.values()][0];
    if (failure) throw failure;
    return { host: CLUSTER_IP, port: 80 };
  }

  async update(state: ProxyState): Promise<void> {
    const node = this.requireCluster().node;
    const before = await this.kernelCounters(node);
    await this.dataplane?.sync(state, new Set([this.servicePortId]));
    const after = await this.kernelCounters(node);
    for (const [endpoint, count] of before) {
      const lost = count - (after.get(endpoint) ?? 0);
      if (lost > 0) this.offsets.set(endpoint, (this.offsets.get(endpoint) ?? 0) + lost);
    }
  }

  /** Kernel modes have no per-endpoint weights in kube-proxy's rules: every endpoint gets 1/n. */
  setWeights(): void {}

  async connectionCounters(): Promise<ReadonlyMap<string, number>> {
    const counters = new Map(this.offsets);
    for (const [endpoint, count] of await this.kernelCounters(this.requireCluster().node)) {
      counters.set(endpoint, (counters.get(endpoint) ?? 0) + count);
    }
    return counters;
  }

  /** 192.168.50.100 onwards, added to the clients' namespace the first time they are asked for. */
  async clientAddresses(count: number): Promise<readonly string[] | undefined> {
    if (count <= 1) return undefined;
    const addresses = Array.from({ length: count }, (_, i) => `192.168.50.${100 + i}`);
    for (; this.addedClients < count; this.addedClients++) {
      await runChecked(['ip', 'addr', 'add', `${addresses[this.addedClients]}/24`, 'dev', 'eth0'], {
        netns: this.requireCluster().client,
      });
    }
    return addresses;
  }

  runLoad(options: LoadOptions): Promise<LoadRun> {
    return runLoadInNetns(this.requireCluster().client, options);
  }

  async stop(): Promise<void> {
    await this.dataplane?.cleanup();
  }

  private requireCluster(): NetnsCluster {
    if (!this.cluster)
      throw new KproxyError('KPROXY_E_LAB', `the ${this.name} lab backend has no cluster yet`);
    return this.cluster;
  }
}

/** Why the kernel lab cannot run here, or undefined when it can: root, and the tools it drives. */
export async function kernelLabUnavailable(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'a kernel lab needs root (network namespaces, iptables, nft)';
  for (const tool of [
    ['iptables-restore', '--version'],
    ['nft', '--version'],
    ['conntrack', '--version'],
  ]) {
    if ((await runCommand(tool)).code !== 0) return `${tool[0]} is not installed`;
  }
  return undefined;
}
