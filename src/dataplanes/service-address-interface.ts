import { spawnSync } from 'node:child_process';
import { isIPv6 } from 'node:net';
import { KproxyError } from '../errors.js';
import { log } from '../log.js';
import type { IPFamily } from '../model/service.js';

/** IPVS mode's interface for Service addresses; kube-proxy names it the same. */
export const SERVICE_INTERFACE = 'kube-ipvs0';

/** Runs `ip` with the given arguments and standard input; returns stdout, throws on failure. */
export type IpCommand = (args: readonly string[], input?: string) => string;

export const runIp: IpCommand = (args, input) => {
  const result = spawnSync('ip', args, { input, encoding: 'utf8' });
  if (result.status !== 0) {
    throw new KproxyError(
      'KPROXY_E_SERVICE_INTERFACE',
      `ip ${args.join(' ')} failed: ${result.stderr || result.error}`,
      {
        hint: 'putting Service addresses on kube-ipvs0 needs root (CAP_NET_ADMIN); the userspace data plane can run with loopback frontends instead',
      },
    );
  }
  return result.stdout;
};

/** `ip` run in a network namespace (`ip -n NAME …`), or in the current one. */
export function ipCommandIn(netns: string | undefined): IpCommand {
  return netns ? (args, input) => runIp(['-n', netns, ...args], input) : runIp;
}

/**
 * The Service addresses a node answers for, on `kube-ipvs0` as IPVS mode keeps them: cluster,
 * external and load-balancer IPs as /32 (/128) local addresses, so the proxy can listen on them
 * and the kernel delivers their traffic locally. The interface is a `dummy` link, as in IPVS mode;
 * kernels without the dummy driver get a `bridge` with no ports instead, which holds local
 * addresses the same way.
 */
export class ServiceAddressInterface {
  private present = new Set<string>();
  private created = false;

  constructor(
    private readonly name: string = SERVICE_INTERFACE,
    private readonly ip: IpCommand = runIp,
    /** Manage only this family's addresses (one instance per family shares the interface); both when unset. */
    private readonly family?: IPFamily,
  ) {}

  /** Makes the interface hold exactly `addresses` (one `ip -batch` for any number of changes). */
  setAddresses(addresses: ReadonlySet<string>): void {
    this.ensureInterface();
    const commands: string[] = [];
    for (const address of addresses) {
      if (!this.present.has(address))
        commands.push(`address replace ${hostPrefix(address)} dev ${this.name}`);
    }
    for (const address of this.present) {
      if (!addresses.has(address)) commands.push(`address del ${hostPrefix(address)} dev ${this.name}`);
    }
    if (commands.length > 0) this.ip(['-force', '-batch', '-'], `${commands.join('\n')}\n`);
    this.present = new Set(addresses);
  }

  /** Deletes the interface and with it every Service address on it. */
  remove(): void {
    if (!this.exists()) return;
    this.ip(['link', 'del', this.name]);
    this.present.clear();
    this.created = false;
  }

  private ensureInterface(): void {
    if (this.created) return;
    if (!this.exists()) {
      try {
        this.ip(['link', 'add', this.name, 'type', 'dummy']);
      } catch {
        log.info('service-address-interface.ts', 'No dummy link type in this kernel; using a bridge', {
          interface: this.name,
        });
        this.ip(['link', 'add', this.name, 'type', 'bridge']);
      }
    }
    this.ip(['link', 'set', this.name, 'up']);
    const family = this.family;
    this.present = new Set(
      listAddresses(this.ip, this.name).filter(
        (address) => !family || isIPv6(address) === (family === 'IPv6'),
      ),
    );
    this.created = true;
  }

  private exists(): boolean {
    try {
      this.ip(['link', 'show', this.name]);
      return true;
    } catch {
      return false;
    }
  }
}

function hostPrefix(address: string): string {
  return isIPv6(address) ? `${address}/128` : `${address}/32`;
}

function listAddresses(ip: IpCommand, name: string): string[] {
  const output = ip(['-o', 'address', 'show', 'dev', name]);
  // The kernel's own link-local address stays; only addresses we could have put there count.
  return [...output.matchAll(/\binet6? ([0-9a-f.:]+)\//g)].flatMap((match) =>
    match[1] && !match[1].startsWith('fe80:') ? [match[1]] : [],
  );
}
