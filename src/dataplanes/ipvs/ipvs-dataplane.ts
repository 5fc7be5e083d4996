import { freezeProxyState, type ProxyState } from '../../model/proxy-state.js';
import type { Dataplane, SyncResult } from '../dataplane.js';
import { type Placement, type PlacementDecision, placeServices, sameDecision } from '../ipvs-placement.js';
import type { NftRunner } from '../nftables/nft-runner.js';
import { NftablesDataplane } from '../nftables/nftables-dataplane.js';
import type { RenderOptions } from '../rule-renderer.js';
import type { UserspaceDataplane } from '../userspace/userspace-dataplane.js';
import { type IpvsTarget, ipvsSchedulerPicker } from './ipvs-nft-picker.js';

export interface IpvsDataplaneOptions {
  readonly render: RenderOptions;
  /** `--ipvs-placement`: one place for every Service. */
  readonly force?: Placement;
  /** Takes the Services whose scheduler needs connection counts. */
  readonly userspace: UserspaceDataplane;
  readonly runner?: NftRunner;
}

/**
 * ipvs mode on a kernel without IPVS: the schedulers nftables can express run in kproxy's nft
 * table, each Service in its own chain; the others run in the userspace data plane, and the nft
 * table sends their frontends to its listeners. ipvs-placement decides which is which.
 */
export class IpvsNftablesDataplane implements Dataplane {
  readonly name = 'ipvs';
  private readonly kernel: NftablesDataplane;
  private decisions = new Map<string, PlacementDecision>();
  private listeners = new Map<string, string>();

  constructor(private readonly options: IpvsDataplaneOptions) {
    this.kernel = new NftablesDataplane({
      name: 'ipvs',
      render: options.render,
      runner: options.runner,
      pickers: ipvsSchedulerPicker((id) => this.targetOf(id)),
    });
  }

  /** The current decision for each Service (for `kproxy rules` and the lab). */
  placements(): ReadonlyMap<string, PlacementDecision> {
    return this.decisions;
  }

  async sync(state: ProxyState, changed: ReadonlySet<string>): Promise<SyncResult> {
    const previous = this.decisions;
    this.decisions = placeServices(
      state,
      {
        ipvsAvailable: false,
        force: this.options.force === 'ipvs' ? undefined : this.options.force,
        defaultScheduler: this.options.render.ipvsScheduler,
      },
      previous,
    );
    const userspacePorts = [...state.servicePorts.values()].filter(
      (port) => this.decisions.get(port.id)?.placement === 'userspace',
    );
    const userspaceResult = await this.options.userspace.sync(
      freezeProxyState(state.nodeName, userspacePorts),
    );
    const before = this.listeners;
    this.listeners = new Map(
      this.options.userspace
        .frontends()
        .map((f) => [f.servicePortId, `${this.reachable(f.address.host)}|${f.address.port}`]),
    );
    const moved = new Set<string>();
    for (const id of new Set([...previous.keys(), ...this.decisions.keys()])) {
      const a = previous.get(id);
      const b = this.decisions.get(id);
      if (!sameDecision(a, b) || before.get(id) !== this.listeners.get(id)) moved.add(id);
    }
    const full = changed.size === 0;
    const kernelChanged = new Set([...changed, ...moved]);
    const kernelResult =
      full || kernelChanged.size > 0
        ? await this.kernel.sync(state, full ? new Set() : kernelChanged)
        : { failed: new Map() };
    return { failed: new Map([...userspaceResult.failed, ...kernelResult.failed]) };
  }

  async cleanup(): Promise<void> {
    await this.kernel.cleanup();
    await this.options.userspace.cleanup();
    this.decisions = new Map();
    this.listeners = new Map();
  }

  private targetOf(id: string): IpvsTarget {
    const decision = this.decisions.get(id);
    const listener = this.listeners.get(id);
    if (decision?.placement === 'userspace' && listener) {
      const [host = '', port = '0'] = listener.split('|');
      return { userspace: { host, port: Number(port) } };
    }
    if (!decision || decision.placement === 'userspace') return { scheduler: 'rr', flags: [] };
    return { scheduler: decision.scheduler, flags: decision.flags };
  }

  /** A listener on every address is reached through the node's own address. */
  private reachable(host: string): string {
    if (host === '0.0.0.0' || host === '::' || host === '')
      return this.options.render.nodeIPs[0] ?? '127.0.0.1';
    return host;
  }
}
