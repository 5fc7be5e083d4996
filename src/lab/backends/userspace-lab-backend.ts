import type { Dataplane } from '../../dataplanes/dataplane.js';
import { UserspaceDataplane } from '../../dataplanes/userspace/userspace-dataplane.js';
import { KproxyError } from '../../errors.js';
import type { ProxyState } from '../../model/proxy-state.js';
import type { LabMode } from '../lab-mode.js';
import { type LoadOptions, runLoad } from '../load/load-generator.js';
import type { LoadRun } from '../load/sample.js';
import type { LabBackend, LabCluster, LabFrontend } from './lab-backend.js';
import { LoopbackCluster } from './loopback-cluster.js';

/**
 * The lab on the userspace data plane, all on loopback and without root: pods on 127.0.0.11…,
 * the Service's frontend on 127.0.0.1, clients in this process (from 127.0.0.100… when there are
 * many). The mode's scheduler picks the pod for each connection: what differs between modes is
 * how endpoints are picked, which is what decides the spread.
 */
export class UserspaceLabBackend implements LabBackend {
  readonly name = 'userspace';
  private dataplane?: UserspaceDataplane;
  private servicePortId = '';
  private readonly retired = new Map<string, number>();

  startCluster(podCount: number): Promise<LabCluster> {
    return LoopbackCluster.start(podCount);
  }

  /** 127.0.0.100 onwards: loopback lets any process bind them. */
  async clientAddresses(count: number): Promise<readonly string[] | undefined> {
    if (count <= 1) return undefined;
    return Array.from({ length: count }, (_, i) => `127.0.${Math.floor((100 + i) / 256)}.${(100 + i) % 256}`);
  }

  runLoad(options: LoadOptions): Promise<LoadRun> {
    return runLoad(options);
  }

  async start(mode: LabMode, state: ProxyState): Promise<LabFrontend> {
    const dataplane = new UserspaceDataplane({
      scheduler: mode.scheduler,
      listenAddress: () => ({ host: '127.0.0.1', port: 0 }),
    });
    this.dataplane = dataplane;
    const plane: Dataplane = dataplane;
    const result = await plane.sync(state, new Set());
    const failure = [...result.failed.values()][0];
    if (failure) throw failure;
    const frontend = dataplane.frontends()[0];
    if (!frontend) throw new KproxyError('KPROXY_E_MANIFEST', 'the lab Service has no TCP port to proxy');
    this.servicePortId = frontend.servicePortId;
    return frontend.address;
  }

  async update(state: ProxyState): Promise<void> {
    // A removed endpoint's backend disappears with its counter: keep what it had counted.
    for (const [id, count] of this.currentCounters()) this.retired.set(id, count);
    const plane: Dataplane | undefined = this.dataplane;
    await plane?.sync(state, new Set([this.servicePortId]));
  }

  /**
   * Sets the weights on the live backends. Schedulers read them at each pick; those that build a
   * table when the backend set changes (sh) keep the table they built at `start`.
   */
  setWeights(weights: ReadonlyMap<string, number>): void {
    for (const backend of this.dataplane?.backends(this.servicePortId) ?? []) {
      const weight = weights.get(backend.id);
      if (weight !== undefined) backend.weight = weight;
    }
  }

  async connectionCounters(): Promise<ReadonlyMap<string, number>> {
    return this.currentCounters();
  }

  private currentCounters(): Map<string, number> {
    const counters = new Map(this.retired);
    for (const backend of this.dataplane?.backends(this.servicePortId) ?? []) {
      counters.set(backend.id, backend.connections);
    }
    return counters;
  }

  async stop(): Promise<void> {
    await this.dataplane?.cleanup();
  }
}
