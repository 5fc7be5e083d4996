import { KproxyError } from '../errors.js';

/** The modes kproxy runs in: kube-proxy's Linux modes, plus the userspace mode kube-proxy once had. */
export const proxyModes = ['iptables', 'nftables', 'ipvs', 'userspace'] as const;
export type ProxyMode = (typeof proxyModes)[number];

/** kube-proxy's rule: an empty mode means iptables on Linux. */
export function resolveProxyMode(mode: string, where: string): ProxyMode {
  if (mode === '') return 'iptables';
  if ((proxyModes as readonly string[]).includes(mode)) return mode as ProxyMode;
  throw new KproxyError('KPROXY_E_UNKNOWN_MODE', `${where}: unknown proxy mode "${mode}"`, {
    hint: `use one of: ${proxyModes.join(', ')} (or "" for the default, iptables)`,
  });
}
