import type { Dataplane } from '../../dataplanes/dataplane.js';
import { openConnectionsFromConntrack } from '../../dataplanes/iptables/endpoint-counters.js';
import { runChecked } from '../../dataplanes/netns.js';
import { nftRunner } from '../../dataplanes/nftables/nft-runner.js';
import { NftablesDataplane } from '../../dataplanes/nftables/nftables-dataplane.js';
import type { LabMode } from '../lab-mode.js';
import { KernelLabBackend, labRenderOptions } from './kernel-lab-backend.js';

/**
 * The lab on the kernel's nftables data plane: `table ip kproxy` loaded with `nft -f` into the
 * lab's node namespace. nftables mode keeps no per-endpoint counters, so connections per endpoint
 * come from the node's connection tracking table: every DNATed connection of the run is still
 * listed (closed ones linger in TIME_WAIT for two minutes, and each mode has a fresh node).
 */
export class NftablesLabBackend extends KernelLabBackend {
  readonly name = 'nftables (kernel)';

  protected createDataplane(_mode: LabMode, nodeNetns: string): Dataplane {
    return new NftablesDataplane({
      render: labRenderOptions,
      runner: nftRunner(['ip', 'netns', 'exec', nodeNetns, 'nft']),
    });
  }

  protected async kernelCounters(nodeNetns: string): Promise<Map<string, number>> {
    const listing = await runChecked(['conntrack', '-L', '-p', 'tcp'], { netns: nodeNetns });
    return openConnectionsFromConntrack(listing);
  }
}
