/**
 * The `ipvsadm -R` lines that take the kernel's IPVS table (`ipvsadm -Sn`, parsed) to the one
 * kproxy wants, touching only what differs: the table is never cleared, so connections to
 * virtual servers that stay keep flowing.
 *
 * - a virtual server missing: `-A`, then `-a` for its real servers;
 * - one whose scheduler, flags or persistence differ: `-E` (ipvsadm sets all three from the line).
 *   Where the kernel's text shows no flags at all (older ipvsadm prints none; 1.31 prints them only
 *   where there are some, see `flagsUnknown`), the flags compared are those the last sync applied
 *   (`appliedFlags`), and none when it is not known: a first sync re-states the flags it wants;
 * - one not wanted: `-D`;
 * - a real server missing: `-a`; one whose weight or forwarding differs: `-e`;
 * - a real server not wanted: graceful termination as kube-proxy does it: removed at once when it
 *   carries no connection (or its virtual server is UDP or SCTP), else set to weight 0, so it takes no new
 *   connection while its open ones finish, and removed by a later sync once they have.
 */
import {
  type IpvsTable,
  isIPv6VirtualServer,
  realServerLine,
  removedAtOnce,
  type VirtualServer,
  virtualServerLine,
} from './ipvs-table.js';

export interface IpvsadmLine {
  readonly text: string;
  /** The Service port the line is for, when known. */
  readonly owner?: string;
}

export interface IpvsDiffInput {
  readonly desired: IpvsTable;
  /** What the kernel holds now. */
  readonly current: IpvsTable;
  /** Which family this data plane owns; the other family's virtual servers are left alone. */
  readonly ipv6: boolean;
  /** Open connections (active + inactive) of a real server: `virtualKey realAddress`. */
  readonly connections?: (virtualKey: string, realAddress: string) => number;
  /** Virtual servers never to remove though not wanted (`ipvs.excludeCIDRs`: another program's). */
  readonly keep?: (virtualKey: string) => boolean;
  /** The owner of a virtual server that is no longer wanted (from the last sync), for error reports. */
  readonly formerOwner?: (virtualKey: string) => string | undefined;
  /** The scheduler flags (comma-joined) the last sync applied, by virtual server. */
  readonly appliedFlags?: ReadonlyMap<string, string>;
}

export function diffIpvsTables(input: IpvsDiffInput): IpvsadmLine[] {
  const lines: IpvsadmLine[] = [];
  for (const wanted of input.desired.values()) {
    const have = input.current.get(wanted.key);
    const owner = wanted.owner;
    if (!have) {
      lines.push({ text: virtualServerLine('-A', wanted), owner });
    } else if (!sameService(have, wanted, input.appliedFlags)) {
      lines.push({ text: virtualServerLine('-E', wanted), owner });
    }
    lines.push(...realServerLines(wanted, have, input));
  }
  for (const have of input.current.values()) {
    if (isIPv6VirtualServer(have.key) !== input.ipv6 || input.desired.has(have.key)) continue;
    if (input.keep?.(have.key)) continue;
    lines.push({ text: `-D ${have.key}`, owner: input.formerOwner?.(have.key) });
  }
  return lines;
}

function realServerLines(
  wanted: VirtualServer,
  have: VirtualServer | undefined,
  input: IpvsDiffInput,
): IpvsadmLine[] {
  const lines: IpvsadmLine[] = [];
  const owner = wanted.owner;
  for (const real of wanted.realServers.values()) {
    const present = have?.realServers.get(real.address);
    if (!present) lines.push({ text: realServerLine('-a', wanted.key, real), owner });
    else if (present.weight !== real.weight || present.forward !== real.forward)
      lines.push({ text: realServerLine('-e', wanted.key, real), owner });
  }
  for (const present of have?.realServers.values() ?? []) {
    if (wanted.realServers.has(present.address)) continue;
    const open = input.connections?.(wanted.key, present.address) ?? 0;
    if (open === 0 || removedAtOnce(wanted.key)) {
      lines.push({ text: `-d ${wanted.key} -r ${present.address}`, owner });
    } else if (present.weight !== 0) {
      lines.push({ text: realServerLine('-e', wanted.key, { ...present, weight: 0 }), owner });
    }
  }
  return lines;
}

function sameService(
  have: VirtualServer,
  wanted: VirtualServer,
  appliedFlags: ReadonlyMap<string, string> | undefined,
): boolean {
  const haveFlags = have.flagsUnknown ? (appliedFlags?.get(have.key) ?? '') : have.flags.join(',');
  const sameFlags = haveFlags === wanted.flags.join(',');
  return have.scheduler === wanted.scheduler && have.persistence === wanted.persistence && sameFlags;
}

/** The whole table as `ipvsadm -R` input (what `kproxy rules --mode ipvsadm` prints). */
export function ipvsadmRestoreText(table: IpvsTable, ipv6: boolean): string {
  return diffIpvsTables({ desired: table, current: new Map(), ipv6 })
    .map((line) => line.text)
    .join('\n');
}
