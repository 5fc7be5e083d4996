import type { ProxyState } from '../model/proxy-state.js';
import type { IPFamily } from '../model/service.js';

/**
 * What a kernel renderer needs besides the state: the node's facts and the configuration fields
 * that change rules. The run command derives these from the KubeProxyConfiguration and the node.
 */
export interface RenderOptions {
  /** Kernel rules are per family, as kube-proxy runs one proxier per family. */
  readonly ipFamily: IPFamily;
  /** The node's own addresses of this family (node ports, ETP Local health checks). */
  readonly nodeIPs: readonly string[];
  /** `clusterCIDR` entries of this family: traffic from outside them is masqueraded (detectLocalMode ClusterCIDR). */
  readonly clusterCIDRs: readonly string[];
  /** `iptables.masqueradeAll` / `nftables.masqueradeAll`: SNAT all Service traffic. */
  readonly masqueradeAll: boolean;
  /** `iptables.masqueradeBit`: the fwmark bit that flags a packet for masquerade (kube-proxy: 14). */
  readonly masqueradeBit: number;
  /** `nodePortAddresses` of this family: CIDRs, or `primary`; empty means every local address. */
  readonly nodePortAddresses: readonly string[];
  /** `iptables.localhostNodePorts`: node ports also answer on 127.0.0.1 (IPv4 only). */
  readonly localhostNodePorts: boolean;
  /** The IPVS scheduler for Services without the annotation (`ipvs.scheduler`, default rr). */
  readonly ipvsScheduler: string;
  /** iptables' MASQUERADE takes `--random-fully` (iptables ≥ 1.6.2, as kube-proxy checks); unset means yes. */
  readonly masqueradeRandomFully?: boolean;
}

/** A pure function from state to the text a kernel tool loads (`iptables-restore`, `nft -f`, `ipvsadm-restore`). */
export interface RuleRenderer {
  readonly mode: string;
  render(state: ProxyState, options: RenderOptions): string;
}
