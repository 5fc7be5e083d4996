import type { Dataplane } from '../../dataplanes/dataplane.js';
import { endpointCountsFromSave } from '../../dataplanes/iptables/endpoint-counters.js';
import { IptablesDataplane } from '../../dataplanes/iptables/iptables-dataplane.js';
import { runChecked } from '../../dataplanes/netns.js';
import type { LabMode } from '../lab-mode.js';
import { KernelLabBackend, labRenderOptions } from './kernel-lab-backend.js';

/**
 * The lab on the kernel's iptables data plane: kube-proxy's rules loaded with iptables-restore
 * into the lab's node namespace. Connections per endpoint are the packet counters of the KUBE-SEP
 * DNAT rules (a nat rule sees only a connection's first packet). Needs root.
 */
export class IptablesLabBackend extends KernelLabBackend {
  readonly name = 'iptables (kernel)';

  protected createDataplane(_mode: LabMode, nodeNetns: string): Dataplane {
    return new IptablesDataplane({ families: [labRenderOptions], netns: nodeNetns, syncPeriodMs: 3_600_000 });
  }

  protected async kernelCounters(nodeNetns: string): Promise<Map<string, number>> {
    const saved = await runChecked(['iptables-save', '-c', '-t', 'nat'], { netns: nodeNetns });
    return new Map(endpointCountsFromSave(saved).map((count) => [count.endpoint, count.connections]));
  }
}
