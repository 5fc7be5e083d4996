/**
 * Applies the wanted IPVS table: reads the kernel's (`ipvsadm -Sn`), feeds the difference to
 * `ipvsadm -R`, and checks the result. ipvsadm applies each line on its own and goes on past one
 * that fails (its exit status only tells about the last line), so after any complaint the table
 * is read again: whatever still differs failed, and is blamed on its Service port. The lines of
 * other Services went in, and nothing is removed because of a failure.
 */
import { KproxyError } from '../../errors.js';
import type { DesiredIpvs } from './ipvs-desired.js';
import { type IpvsTable, parseIpvsadmSave, removedAtOnce } from './ipvs-table.js';
import { diffIpvsTables, type IpvsadmLine } from './ipvsadm-diff.js';
import { type IpvsadmRunner, parseIpvsadmConnections } from './ipvsadm-runner.js';

export interface IpvsApplyInput {
  readonly desired: DesiredIpvs;
  readonly runner: IpvsadmRunner;
  readonly ipv6: boolean;
  /** The Service port of each virtual server the last sync programmed (to name a failed `-D`). */
  readonly owners: ReadonlyMap<string, string>;
  /** Virtual servers never removed (`ipvs.excludeCIDRs`). */
  readonly keep?: (virtualKey: string) => boolean;
  /** The scheduler flags the last sync applied (its result's `appliedFlags`). */
  readonly appliedFlags?: ReadonlyMap<string, string>;
}

export interface IpvsApplyResult {
  /** Failures by Service port ('' when no Service can be named). */
  readonly failed: Map<string, Error>;
  /** The Service port of each virtual server now programmed. */
  readonly owners: Map<string, string>;
  /**
   * The scheduler flags (comma-joined) now programmed, by virtual server: for the next sync, where
   * ipvsadm does not print them. There, after a failed restore, those its lines carried are left
   * out (they cannot be read back), so that the next sync states them again.
   */
  readonly appliedFlags: Map<string, string>;
}

export async function applyIpvsTable(input: IpvsApplyInput): Promise<IpvsApplyResult> {
  const owners = new Map([...input.desired.table.values()].map((vs) => [vs.key, vs.owner ?? '']));
  const wantedFlags = new Map([...input.desired.table.values()].map((vs) => [vs.key, vs.flags.join(',')]));
  const current = parseIpvsadmSave(await input.runner.save());
  let connections: ((virtualKey: string, realAddress: string) => number) | undefined;
  const diff = (table: IpvsTable, appliedFlags: ReadonlyMap<string, string> | undefined) =>
    diffIpvsTables({
      desired: input.desired.table,
      current: table,
      ipv6: input.ipv6,
      connections,
      formerOwner: (key) => input.owners.get(key),
      keep: input.keep,
      appliedFlags,
    });
  let lines = diff(current, input.appliedFlags);
  if (lines.some(mayDrainRealServer)) {
    // Removing a real server that still carries connections would break them: look first.
    const counts = parseIpvsadmConnections(await input.runner.list());
    connections = (virtualKey, realAddress) => counts.get(`${virtualKey} ${realAddress}`) ?? 0;
    lines = diff(current, input.appliedFlags);
  }
  if (lines.length === 0) return { failed: new Map(), owners, appliedFlags: wantedFlags };
  const result = await input.runner.restore(`${lines.map((line) => line.text).join('\n')}\n`);
  if (result.code === 0 && result.stderr.trim() === '') {
    return { failed: new Map(), owners, appliedFlags: wantedFlags };
  }
  const after = parseIpvsadmSave(await input.runner.save());
  const remaining = diff(after, wantedFlags);
  // Flags that ipvsadm does not print cannot be read back: whether a -A or -E line that carried
  // them went in is unknown, so the next sync states them again.
  if ([...after.values()].some((vs) => vs.flagsUnknown)) {
    for (const line of lines)
      if (/^-[AE] /.test(line.text)) wantedFlags.delete(virtualServerKeyOf(line.text));
  }
  return { failed: failuresByOwner(remaining, result.stderr), owners, appliedFlags: wantedFlags };
}

/** `-t 10.0.0.1:80` from `-E -t 10.0.0.1:80 -s rr …`. */
function virtualServerKeyOf(line: string): string {
  return line.split(/\s+/).slice(1, 3).join(' ');
}

/** A real server removal that may become a drain (TCP): the connection counts decide. */
function mayDrainRealServer(line: IpvsadmLine): boolean {
  return line.text.startsWith('-d ') && !removedAtOnce(line.text.slice(3));
}

function failuresByOwner(lines: readonly IpvsadmLine[], stderr: string): Map<string, Error> {
  const byOwner = new Map<string, string[]>();
  for (const line of lines) {
    const owner = line.owner ?? '';
    byOwner.set(owner, [...(byOwner.get(owner) ?? []), line.text]);
  }
  const detail = stderr.trim().split('\n')[0] || 'no message';
  const failed = new Map<string, Error>();
  for (const [owner, texts] of byOwner) {
    const where = owner ? `Service port ${owner}` : 'virtual servers of no known Service';
    failed.set(
      owner,
      new KproxyError(
        'KPROXY_E_RULES_REJECTED',
        `ipvsadm -R did not apply ${texts.length} line(s) of ${where}: ${texts.slice(0, 3).join('; ')} (${detail})`,
        {
          hint: 'the other Services were programmed; the next sync compares with the kernel and tries again. `ipvsadm -Ln` shows the table',
        },
      ),
    );
  }
  return failed;
}
