/**
 * Loads ipvs mode's ipsets with one `ipset restore`, all or nothing: every set is first created
 * if missing, then each set's new contents are written into a temporary set, and only once all of
 * them are filled are they swapped in (and the temporaries, now holding the old contents,
 * destroyed). ipset stops at the first failing line, before any swap, so a failure leaves every
 * set as it was.
 */
import { KproxyError } from '../../errors.js';
import type { IPFamily } from '../../model/service.js';
import { runCommand } from '../netns.js';
import type { IpvsSetKey } from './ipvs-sets.js';
import { ipsetCreateSpec, ipsetName, ipvsSetKeys } from './ipvs-sets.js';

export interface IpsetRestoreText {
  readonly text: string;
  /** For each 1-based line number, the Service port whose entry it adds (index 0 unused). */
  readonly lineOwners: readonly (string | undefined)[];
}

/** The temporary set that stands in for `key` while it is filled (a `KUBE-` name, so cleanup finds leftovers). */
export function temporarySetName(key: IpvsSetKey, family: IPFamily): string {
  return `KUBE-KP-TMP-${family === 'IPv6' ? 6 : 4}-${ipvsSetKeys.indexOf(key)}`;
}

export function ipsetRestoreText(
  sets: ReadonlyMap<IpvsSetKey, ReadonlyMap<string, string | undefined>>,
  family: IPFamily,
): IpsetRestoreText {
  const lines: string[] = [];
  const lineOwners: (string | undefined)[] = [undefined];
  const push = (line: string, owner?: string) => {
    lines.push(line);
    lineOwners.push(owner);
  };
  for (const key of ipvsSetKeys) {
    push(`create ${ipsetName(key, family)} ${ipsetCreateSpec(key, family)} -exist`);
  }
  for (const key of ipvsSetKeys) {
    const temporary = temporarySetName(key, family);
    push(`create ${temporary} ${ipsetCreateSpec(key, family)} -exist`);
    push(`flush ${temporary}`);
    for (const [entry, owner] of sets.get(key) ?? []) push(`add ${temporary} ${entry}`, owner);
  }
  for (const key of ipvsSetKeys) {
    push(`swap ${temporarySetName(key, family)} ${ipsetName(key, family)}`);
    push(`destroy ${temporarySetName(key, family)}`);
  }
  return { text: `${lines.join('\n')}\n`, lineOwners };
}

export class IpsetRejected extends KproxyError {
  constructor(
    message: string,
    readonly servicePortId: string | undefined,
  ) {
    super('KPROXY_E_RULES_REJECTED', message, {
      hint: 'every ipset keeps its previous contents and the next sync loads them all again; `kproxy rules --mode ipvsadm` shows the sets',
    });
  }
}

/** Runs `ipset restore` in `netns`; a rejected line is blamed on the Service port it was for. */
export async function restoreIpsets(restore: IpsetRestoreText, netns?: string): Promise<void> {
  const argv = netns ? ['ip', 'netns', 'exec', netns, 'ipset', 'restore'] : ['ipset', 'restore'];
  const result = await runCommand(argv, { input: restore.text });
  if (result.code === 0) return;
  const number = Number(/Error in line (\d+)/.exec(result.stderr)?.[1] ?? Number.NaN);
  const owner = Number.isNaN(number) ? undefined : restore.lineOwners[number];
  const line = Number.isNaN(number) ? undefined : restore.text.split('\n')[number - 1];
  const where = owner ? `Service port ${owner}` : 'the ipsets';
  throw new IpsetRejected(
    `ipset restore rejected ${where}${line ? ` at line ${number}: ${line}` : ''} (${result.stderr.trim()})`,
    owner,
  );
}

/** `ipset destroy` for each of a family's sets (and temporaries) that exists; referenced sets fail, so iptables goes first. */
export async function destroyIpsets(family: IPFamily, netns?: string): Promise<string[]> {
  const inNetns = (args: string[]) => (netns ? ['ip', 'netns', 'exec', netns, ...args] : args);
  const listed = await runCommand(inNetns(['ipset', 'list', '-n']));
  const present = new Set(listed.stdout.split('\n'));
  const names = ipvsSetKeys.flatMap((key) => [ipsetName(key, family), temporarySetName(key, family)]);
  const destroyed: string[] = [];
  for (const name of names.filter((n) => present.has(n))) {
    if ((await runCommand(inNetns(['ipset', 'destroy', name]))).code === 0) destroyed.push(name);
  }
  return destroyed;
}
