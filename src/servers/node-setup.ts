import { readFile, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { log } from '../log.js';

/**
 * What kproxy sets on the node at start, as kube-proxy does when it runs as root: its own OOM
 * score, and the conntrack table's size and TCP timeouts. Paths are injectable so tests write
 * to a temp directory, never to the host's real /proc and /sys.
 */
export interface NodeSetupPaths {
  /** `/proc/self/oom_score_adj`. */
  readonly oomScoreAdj: string;
  /** `/proc/sys` (sysctls live under `net/netfilter/`). */
  readonly procSys: string;
  /** `/sys/module/nf_conntrack/parameters/hashsize`. */
  readonly conntrackHashsize: string;
}

export const hostPaths: NodeSetupPaths = {
  oomScoreAdj: '/proc/self/oom_score_adj',
  procSys: '/proc/sys',
  conntrackHashsize: '/sys/module/nf_conntrack/parameters/hashsize',
};

/** `conntrack` of KubeProxyConfiguration, defaults resolved (kube-proxy: 32768, 131072, 24h, 1h). */
export interface ConntrackSettings {
  /** 0 leaves nf_conntrack_max alone. */
  readonly maxPerCore: number;
  readonly min: number;
  /** 0 leaves the sysctl alone. */
  readonly tcpEstablishedTimeoutSeconds: number;
  readonly tcpCloseWaitTimeoutSeconds: number;
  /** `tcpBeLiberal`: accept out-of-window TCP packets instead of marking them INVALID. */
  readonly tcpBeLiberal?: boolean;
  readonly udpTimeoutSeconds?: number;
  readonly udpStreamTimeoutSeconds?: number;
}

export const defaultConntrackSettings: ConntrackSettings = {
  maxPerCore: 32768,
  min: 131072,
  tcpEstablishedTimeoutSeconds: 86400,
  tcpCloseWaitTimeoutSeconds: 3600,
};

/** kube-proxy's `oomScoreAdj` default: the kernel kills kproxy almost last. */
export const defaultOomScoreAdj = -999;

/** kube-proxy's sizing: maxPerCore × cores, but never below min; 0 when maxPerCore is 0 (leave it). */
export function conntrackMaxFor(
  settings: Pick<ConntrackSettings, 'maxPerCore' | 'min'>,
  cores: number,
): number {
  if (settings.maxPerCore <= 0) return 0;
  return Math.max(settings.maxPerCore * cores, settings.min);
}

/** One setting written (or found already right, or failed). */
export interface NodeSetting {
  readonly path: string;
  readonly value: number;
  readonly outcome: 'set' | 'unchanged' | 'failed';
  readonly error?: string;
}

export interface NodeSetupOptions {
  readonly oomScoreAdj: number | null;
  readonly conntrack: ConntrackSettings;
  readonly paths?: NodeSetupPaths;
  readonly cores?: number;
}

/**
 * Applies oomScoreAdj and the conntrack settings, logging each as kube-proxy does
 * (`"Setting nf_conntrack_max" nf_conntrack_max=131072`). A failure (e.g. read-only /sys in a
 * container without privilege) is logged with what to do and does not stop the proxy.
 */
export async function applyNodeSetup(options: NodeSetupOptions): Promise<NodeSetting[]> {
  const paths = options.paths ?? hostPaths;
  const results: NodeSetting[] = [];
  if (options.oomScoreAdj !== null) results.push(await writeInteger(paths.oomScoreAdj, options.oomScoreAdj));
  const max = conntrackMaxFor(options.conntrack, options.cores ?? availableParallelism());
  if (max > 0) {
    log.info('node-setup.ts', 'Setting nf_conntrack_max', { nf_conntrack_max: max });
    results.push(await writeInteger(netfilter(paths, 'nf_conntrack_max'), max));
    // A hash table much smaller than the table makes lookups slow: kube-proxy keeps it ≥ max/4.
    const hashsize = await readInteger(paths.conntrackHashsize);
    if (hashsize !== undefined && hashsize < Math.floor(max / 4)) {
      log.info('node-setup.ts', 'Setting conntrack hashsize', { conntrackHashsize: Math.floor(max / 4) });
      results.push(await writeInteger(paths.conntrackHashsize, Math.floor(max / 4)));
    }
  }
  const conntrack = options.conntrack;
  const sysctls: [string, number][] = [
    ['nf_conntrack_tcp_timeout_established', conntrack.tcpEstablishedTimeoutSeconds],
    ['nf_conntrack_tcp_timeout_close_wait', conntrack.tcpCloseWaitTimeoutSeconds],
    ['nf_conntrack_tcp_be_liberal', conntrack.tcpBeLiberal ? 1 : 0],
    ['nf_conntrack_udp_timeout', conntrack.udpTimeoutSeconds ?? 0],
    ['nf_conntrack_udp_timeout_stream', conntrack.udpStreamTimeoutSeconds ?? 0],
  ];
  // As in kube-proxy, 0 (or false) means "leave the kernel's value".
  for (const [name, value] of sysctls) {
    if (value > 0) results.push(await writeInteger(netfilter(paths, name), value));
  }
  for (const failed of results.filter((result) => result.outcome === 'failed')) {
    log.error('node-setup.ts', 'Failed to apply a node setting; kproxy goes on without it', {
      path: failed.path,
      value: failed.value,
      err: failed.error,
      hint: 'run kproxy as root with a writable /proc/sys and /sys (privileged: true in the DaemonSet), or set conntrack.maxPerCore: 0 and oomScoreAdj: null to leave them alone',
    });
  }
  return results;
}

/** Whether this process may change node settings at all (kube-proxy applies them only as root). */
export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

function netfilter(paths: NodeSetupPaths, name: string): string {
  return join(paths.procSys, 'net', 'netfilter', name);
}

async function readInteger(path: string): Promise<number | undefined> {
  try {
    const value = Number.parseInt((await readFile(path, 'utf8')).trim(), 10);
    return Number.isNaN(value) ? undefined : value;
  } catch {
    return undefined;
  }
}

/** Writes `value` unless the file already holds it (so a read-only file that is already right is fine). */
async function writeInteger(path: string, value: number): Promise<NodeSetting> {
  if ((await readInteger(path)) === value) return { path, value, outcome: 'unchanged' };
  try {
    await writeFile(path, String(value));
    return { path, value, outcome: 'set' };
  } catch (error) {
    return { path, value, outcome: 'failed', error: error instanceof Error ? error.message : String(error) };
  }
}
