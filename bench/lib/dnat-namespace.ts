import { run } from './processes.js';

export interface DnatNamespace {
  readonly name: string;
  /** The Service address inside the namespace. */
  readonly serviceIP: string;
  /** Backend addresses inside the namespace (on its loopback). */
  readonly backendIPs: readonly string[];
  readonly exec: readonly string[];
  remove(): void;
}

/**
 * A private network namespace where a Service address is spread over backends by the kernel, as
 * iptables mode does it: `-m statistic --mode random`, rule i of n with probability 1/(n−i).
 * Everything (client, rules, backends) stays inside the namespace; the host's rules are untouched.
 */
export function createDnatNamespace(backendCount: number, port: number): DnatNamespace {
  const name = `kp-bench-${process.pid}`;
  const serviceIP = '10.96.0.10';
  const backendIPs = Array.from({ length: backendCount }, (_, i) => `10.180.0.${i + 1}`);
  run('ip', ['netns', 'add', name]);
  const exec = ['ip', 'netns', 'exec', name];
  const inside = (command: string, args: readonly string[]) =>
    run('ip', ['netns', 'exec', name, command, ...args]);
  try {
    inside('ip', ['link', 'set', 'lo', 'up']);
    for (const ip of [serviceIP, ...backendIPs]) inside('ip', ['addr', 'add', `${ip}/32`, 'dev', 'lo']);
    const rules = backendIPs.map((ip, i) => {
      const probability = 1 / (backendCount - i);
      const match =
        i < backendCount - 1 ? `-m statistic --mode random --probability ${probability.toFixed(10)} ` : '';
      return `-A OUTPUT -d ${serviceIP}/32 -p tcp --dport ${port} ${match}-j DNAT --to-destination ${ip}:${port}`;
    });
    inside('sh', [
      '-c',
      `printf '%s\\n' '*nat' ${rules.map((r) => `'${r}'`).join(' ')} 'COMMIT' | iptables-restore`,
    ]);
  } catch (error) {
    run('ip', ['netns', 'del', name]);
    throw error;
  }
  return { name, serviceIP, backendIPs, exec, remove: () => run('ip', ['netns', 'del', name]) };
}
