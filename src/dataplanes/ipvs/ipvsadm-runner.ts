/**
 * How the IPVS data plane talks to the kernel's IPVS: through `ipvsadm`, behind a small interface
 * so that a kernel without IPVS can still run everything else (the tests inject an in-memory one).
 */
import { KproxyError } from '../../errors.js';
import { runCommand } from '../netns.js';

export interface IpvsadmRunner {
  /** `ipvsadm -Sn`: the table as restore lines. */
  save(): Promise<string>;
  /** `ipvsadm -Ln`: the table with each real server's connection counts. */
  list(): Promise<string>;
  /** `ipvsadm -R` fed `text`. ipvsadm goes on past a failing line; the stderr says which failed. */
  restore(text: string): Promise<{ readonly code: number; readonly stderr: string }>;
}

/** ipvsadm's words when the kernel has no IPVS module. */
const NO_IPVS = /Protocol not available|Can't initialize ipvs/;

/** The real `ipvsadm`, in `netns` (or the current namespace). */
export function ipvsadmRunner(netns?: string): IpvsadmRunner {
  const run = async (args: string[], input?: string) => {
    const argv = netns ? ['ip', 'netns', 'exec', netns, 'ipvsadm', ...args] : ['ipvsadm', ...args];
    const result = await runCommand(argv, { input });
    if (result.code === 127 && !netns) throw missingTool(result.stderr);
    if (NO_IPVS.test(result.stderr)) throw noIpvsError(result.stderr);
    return result;
  };
  const read = async (args: string[]) => {
    const result = await run(args);
    if (result.code !== 0) {
      throw new KproxyError(
        'KPROXY_E_KERNEL_TOOL',
        `ipvsadm ${args.join(' ')} failed: ${result.stderr.trim()}`,
        {
          hint: 'run as root (or with CAP_NET_ADMIN) and install ipvsadm (apt-get install ipvsadm)',
        },
      );
    }
    return result.stdout;
  };
  return {
    save: () => read(['-Sn']),
    list: () => read(['-Ln']),
    restore: async (text) => {
      const result = await run(['-R'], text);
      return { code: result.code, stderr: result.stderr };
    },
  };
}

export function noIpvsError(detail: string): KproxyError {
  return new KproxyError(
    'KPROXY_E_NO_IPVS',
    `ipvsadm cannot program virtual servers: the kernel has no IPVS (${detail.trim().split('\n')[0]})`,
    {
      hint: 'load it (modprobe ip_vs) on a kernel that has it, or run ipvs mode without it: --ipvs-placement nftables',
    },
  );
}

function missingTool(stderr: string): KproxyError {
  return new KproxyError('KPROXY_E_KERNEL_TOOL', `ipvsadm could not be run: ${stderr.trim()}`, {
    hint: 'install ipvsadm (apt-get install ipvsadm)',
  });
}

const protocolSwitch: Record<string, string> = { TCP: '-t', UDP: '-u', SCTP: '--sctp-service' };

/**
 * Open connections (ActiveConn + InActConn) per real server from `ipvsadm -Ln`, keyed
 * `VIRTUAL-KEY REAL-ADDRESS` (`-t 10.0.0.1:80 10.1.0.1:8080`).
 */
export function parseIpvsadmConnections(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  let virtualKey: string | undefined;
  for (const line of text.split('\n')) {
    const words = line.trim().split(/\s+/);
    const service = protocolSwitch[words[0] ?? ''];
    if (service && words[1]) {
      virtualKey = `${service} ${words[1]}`;
    } else if (words[0] === '->' && virtualKey && words.length >= 6 && /^\d+$/.test(words[4] ?? '')) {
      counts.set(`${virtualKey} ${words[1]}`, Number(words[4]) + Number(words[5]));
    }
  }
  return counts;
}
