/**
 * What kube-proxy's ipvs mode sets on the node once, besides the rules: the sysctls IPVS needs to
 * work with iptables (`net.ipv4.vs.conntrack=1`, without which IPVS-forwarded packets skip
 * conntrack and the MASQUERADE rules never see them), to drop connections to a removed real
 * server at once, and `strictARP`; and the IPVS connection timeouts (`ipvsadm --set`).
 */
import { KproxyError } from '../../errors.js';
import { runCommand } from '../netns.js';

export interface IpvsNodeSettings {
  /** `ipvs.strictARP`: answer ARP only for addresses on the receiving interface (MetalLB and the like need it). */
  readonly strictARP?: boolean;
  /** `ipvs.tcpTimeout`, `tcpFinTimeout`, `udpTimeout` in milliseconds; 0 keeps the kernel's. */
  readonly tcpTimeout?: number;
  readonly tcpFinTimeout?: number;
  readonly udpTimeout?: number;
  /** `ipvs.excludeCIDRs`: virtual servers there are never removed (another program's). */
  readonly excludeCIDRs?: readonly string[];
}

/** The sysctls to set, in order. `net.ipv4.vs.*` exist only where IPVS is loaded. */
export function ipvsSysctls(settings: IpvsNodeSettings): (readonly [string, string])[] {
  return [
    ['net.ipv4.vs.conntrack', '1'],
    ['net.ipv4.vs.expire_nodest_conn', '1'],
    ['net.ipv4.vs.expire_quiescent_template', '1'],
    ['net.ipv4.ip_forward', '1'],
    ...(settings.strictARP
      ? ([
          ['net.ipv4.conf.all.arp_ignore', '1'],
          ['net.ipv4.conf.all.arp_announce', '2'],
        ] as const)
      : []),
  ];
}

/**
 * Sets the sysctls in `netns`. Those of IPVS are skipped where IPVS is missing (ipvsadm's own
 * error says so more clearly); any other failure is an error naming the sysctl.
 */
export async function applyIpvsSysctls(settings: IpvsNodeSettings, netns?: string): Promise<void> {
  for (const [key, value] of ipvsSysctls(settings)) {
    const present = await runCommand(['sysctl', '-n', key], { netns });
    if (present.code !== 0 && key.startsWith('net.ipv4.vs.')) continue;
    if (present.stdout.trim() === value) continue;
    const set = await runCommand(['sysctl', '-qw', `${key}=${value}`], { netns });
    if (set.code !== 0) {
      throw new KproxyError(
        'KPROXY_E_KERNEL_TOOL',
        `sysctl -w ${key}=${value} failed: ${set.stderr.trim()}`,
        {
          hint: 'ipvs mode needs root (CAP_SYS_ADMIN for sysctls); kube-proxy sets the same values',
        },
      );
    }
  }
}

/** `--set TCP TCPFIN UDP` (seconds; 0 keeps one) for `ipvsadm -R`, or undefined when all are 0. */
export function ipvsTimeoutLine(settings: IpvsNodeSettings): string | undefined {
  const seconds = [settings.tcpTimeout, settings.tcpFinTimeout, settings.udpTimeout].map((ms) =>
    Math.round((ms ?? 0) / 1000),
  );
  return seconds.some((s) => s > 0) ? `--set ${seconds.join(' ')}` : undefined;
}
