import { execFileSync } from 'node:child_process';
import { runChecked, runCommand } from '../../../src/dataplanes/netns.js';

/** Skips visibly without root or without the tools; under CI=true a skip is a failure. */
export function ipvsKernelTestOptions(): { skip?: string } {
  const reason = (() => {
    if (process.platform !== 'linux') return 'kernel tests need Linux';
    if (process.getuid?.() !== 0) return 'kernel tests need root (network namespaces, ipset, iptables)';
    for (const tool of ['ipset', 'iptables-restore']) {
      try {
        execFileSync(tool, ['--version'], { stdio: 'ignore' });
      } catch {
        return `${tool} is not installed`;
      }
    }
    return undefined;
  })();
  if (reason && process.env.CI === 'true') throw new Error(`CI=true but ${reason}`);
  return reason ? { skip: reason } : {};
}

/** The members of an ipset in `netns`, sorted. */
export async function ipsetMembers(netns: string, set: string): Promise<string[]> {
  const listed = await runChecked(['ipset', 'list', set], { netns });
  const members = listed.slice(listed.indexOf('Members:\n') + 'Members:\n'.length);
  return members
    .split('\n')
    .filter((line) => line.trim() !== '')
    .sort();
}

/** The addresses on kube-ipvs0 in `netns` (link-local left out), sorted. */
export async function serviceAddresses(netns: string): Promise<string[]> {
  const shown = await runChecked(['ip', '-o', 'address', 'show', 'dev', 'kube-ipvs0'], { netns });
  return [...shown.matchAll(/\binet6? ([0-9a-f.:]+)\//g)]
    .map((match) => match[1] ?? '')
    .filter((ip) => !ip.startsWith('fe80:'))
    .sort();
}

/** Links, ipsets and both families' iptables rules and chains of `netns`, to compare before and after. */
export async function netnsSnapshot(netns: string): Promise<string> {
  const links = await runChecked(['ip', '-o', 'link', 'show'], { netns });
  const sets = await runChecked(['ipset', 'list', '-n'], { netns });
  const rules: string[] = [];
  for (const tool of ['iptables-save', 'ip6tables-save']) {
    const saved = await runCommand([tool], { netns });
    rules.push(
      ...saved.stdout
        .split('\n')
        // Rules and user chains: an empty table that iptables-save shows once it was touched is no change.
        .filter((line) => line.startsWith('-A ') || /^:\S+ - /.test(line)),
    );
  }
  const names = links
    .split('\n')
    .map((line) => line.split(':')[1]?.trim())
    .filter(Boolean);
  return [`links: ${names.join(' ')}`, `sets: ${sets.trim()}`, ...rules].join('\n');
}
