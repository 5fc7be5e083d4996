/**
 * The IPVS table as data: virtual servers keyed as `ipvsadm` names them (`-t 10.0.0.1:80`,
 * `-u [fd00::1]:53`), each with its real servers. The same shape holds what kproxy wants and
 * what `ipvsadm -Sn` says the kernel has, so the two can be compared (ipvsadm-diff.ts).
 */
import type { Protocol } from '../../model/service.js';

export interface RealServer {
  /** `10.1.0.1:8080`, `[fd00:1::1]:8080`. */
  readonly address: string;
  readonly weight: number;
  /** ipvsadm's forwarding switch: `-m` masquerading (kube-proxy's), `-g` direct routing, `-i` tunnel. */
  readonly forward: string;
}

export interface VirtualServer {
  /** `-t 10.0.0.1:80`: the protocol switch and address, as ipvsadm writes them. */
  readonly key: string;
  readonly scheduler: string;
  /** Scheduler flags (`-b`), sorted, as ipvsadm lists them. */
  readonly flags: readonly string[];
  /**
   * Set on one read from an `ipvsadm -Sn` that shows no `-b` at all. Older ipvsadm (1.26) never
   * prints scheduler flags; 1.31 (Debian 12's) prints `-b` whenever a virtual server has any. With
   * none shown, the flags cannot be told from none, so they are not compared.
   */
  readonly flagsUnknown?: boolean;
  /** `-p`: the persistence timeout in seconds, for ClientIP affinity; undefined without. */
  readonly persistence?: number;
  readonly realServers: ReadonlyMap<string, RealServer>;
  /** The Service port it exists for; unset for one read from the kernel. */
  readonly owner?: string;
}

export type IpvsTable = ReadonlyMap<string, VirtualServer>;

const protocolSwitch: Record<Protocol, string> = { TCP: '-t', UDP: '-u', SCTP: '--sctp-service' };

/** `ip:port`, bracketed for IPv6. */
export function hostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

export function virtualServerKey(protocol: Protocol, ip: string, port: number): string {
  return `${protocolSwitch[protocol]} ${hostPort(ip, port)}`;
}

/** The address of a virtual server key (`-t [fd00::1]:80` → `fd00::1`). */
export function virtualServerAddress(key: string): string {
  const hostAndPort = key.slice(key.indexOf(' ') + 1);
  return hostAndPort.slice(0, hostAndPort.lastIndexOf(':')).replace(/^\[|\]$/g, '');
}

/** Whether a virtual server's address is IPv6. */
export function isIPv6VirtualServer(key: string): boolean {
  return key.includes('[');
}

/**
 * Whether a real server leaving this virtual server is removed at once rather than drained: UDP
 * and SCTP ones are, as in kube-proxy's graceful termination, which drains only TCP.
 */
export function removedAtOnce(virtualKey: string): boolean {
  return virtualKey.startsWith('-u ') || virtualKey.startsWith('--sctp-service ');
}

/** `-A|-E -t VIP:PORT -s SCHED [-b FLAGS] [-p TIMEOUT]` */
export function virtualServerLine(command: '-A' | '-E', server: VirtualServer): string {
  const flags = server.flags.length > 0 ? ` -b ${server.flags.join(',')}` : '';
  const persistence = server.persistence !== undefined ? ` -p ${server.persistence}` : '';
  return `${command} ${server.key} -s ${server.scheduler}${flags}${persistence}`;
}

/** `-a|-e -t VIP:PORT -r EP:PORT -m -w WEIGHT` */
export function realServerLine(command: '-a' | '-e', key: string, real: RealServer): string {
  return `${command} ${key} -r ${real.address} ${real.forward} -w ${real.weight}`;
}

interface MutableVirtualServer extends Omit<VirtualServer, 'realServers'> {
  readonly realServers: Map<string, RealServer>;
}

/**
 * Parses `ipvsadm -Sn` (or `-R` input of the same form): `-A` lines open a virtual server, `-a`
 * lines add real servers to it. Firewall-mark services (`-f`) and unknown lines are skipped:
 * kube-proxy never makes them, and they are not ours to change.
 */
export function parseIpvsadmSave(text: string): Map<string, VirtualServer> {
  const table = new Map<string, MutableVirtualServer>();
  const flagsUnknown = !/\s-b\s/.test(text) || undefined;
  for (const line of text.split('\n')) {
    const words = line.trim().split(/\s+/);
    const [command, protocol, address] = words;
    if (!protocol || !address || !['-t', '-u', '--sctp-service'].includes(protocol)) continue;
    const key = `${protocol} ${address}`;
    const option = (name: string) => {
      const at = words.indexOf(name);
      return at > 0 ? words[at + 1] : undefined;
    };
    if (command === '-A') {
      const persistence = option('-p');
      table.set(key, {
        key,
        scheduler: option('-s') ?? 'wlc',
        flags: (option('-b') ?? '').split(',').filter(Boolean).sort(),
        persistence: persistence === undefined ? undefined : Number(persistence),
        flagsUnknown,
        realServers: new Map(),
      });
    } else if (command === '-a') {
      const real = option('-r');
      if (!real) continue;
      const forward = words.find((word) => ['-m', '-g', '-i'].includes(word)) ?? '-g';
      table.get(key)?.realServers.set(real, { address: real, weight: Number(option('-w') ?? 1), forward });
    }
  }
  return table;
}
