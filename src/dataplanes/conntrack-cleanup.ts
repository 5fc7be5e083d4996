import { log } from '../log.js';
import type { ProxyState, ServicePortState } from '../model/proxy-state.js';
import { proxyStateOf } from '../model/proxy-state.js';
import { type ConntrackFlow, conntrackDeleteArgs, staleConntrackFlows } from './conntrack-flows.js';
import { flowsWithEntries, parseConntrackList } from './conntrack-table.js';
import type { Dataplane, SyncResult } from './dataplane.js';
import { type CommandResult, inNetns, runCommand } from './netns.js';

export interface ConntrackCleanupOptions {
  /** The data plane's network namespace, when it programs one (tests, the lab). */
  readonly netns?: string;
  /** Runs `conntrack` with these arguments; default: the `conntrack` tool in `netns`. */
  readonly run?: (args: readonly string[]) => Promise<CommandResult>;
}

/** What the cleanup did since the data plane was built. */
export interface ConntrackCleanupCounters {
  /** `conntrack -D` runs that deleted at least one entry, and entries deleted. */
  flowsCleaned: number;
  entriesDeleted: number;
  /** Deletes that failed, or could not run because `conntrack` is missing. */
  failures: number;
}

/** `conntrack -D` exits 1 when nothing matched, which is no failure. */
const DELETED = /(\d+) flow entries have been deleted/;
const MISSING_TOOL = /ENOENT|exec of "conntrack" failed|conntrack: not found/;

/**
 * A kernel data plane followed, after each sync, by the deletion of the conntrack entries the
 * sync made stale (see conntrack-flows.ts): `conntrack -L` once per family, then `conntrack -D`
 * for each stale filter that matches a listed entry. Service ports whose programming failed keep their
 * previous state here, so their entries are looked at again on the next sync. A missing tool or a
 * failed delete is logged and counted; it never fails the sync.
 */
export class ConntrackCleaningDataplane implements Dataplane {
  readonly name: string;
  readonly counters: ConntrackCleanupCounters = { flowsCleaned: 0, entriesDeleted: 0, failures: 0 };
  private readonly run: (args: readonly string[]) => Promise<CommandResult>;
  /** The state the kernel holds, as of the last sync; undefined before the first. */
  private applied: ProxyState | undefined;

  constructor(
    readonly inner: Dataplane,
    options: ConntrackCleanupOptions = {},
  ) {
    this.name = inner.name;
    this.run = options.run ?? ((args) => runCommand(inNetns(['conntrack', ...args], options.netns)));
  }

  async sync(state: ProxyState, changed: ReadonlySet<string>): Promise<SyncResult> {
    const result = await this.inner.sync(state, changed);
    const programmed = keepFailedPorts(this.applied, state, result.failed);
    const flows = staleConntrackFlows(this.applied, programmed);
    this.applied = programmed;
    await this.deleteFlows(flows);
    return result;
  }

  async cleanup(): Promise<void> {
    this.applied = undefined;
    await this.inner.cleanup();
  }

  private async deleteFlows(flows: readonly ConntrackFlow[]): Promise<void> {
    const listed = flows.length > 0 ? await this.flowsWithEntries(flows) : [];
    for (const flow of listed ?? []) {
      const args = conntrackDeleteArgs(flow);
      const result = await this.run(args);
      const deleted = Number(DELETED.exec(result.stderr)?.[1] ?? Number.NaN);
      if (result.code === 0 || (result.code === 1 && deleted === 0)) {
        if (deleted > 0) {
          this.counters.flowsCleaned++;
          this.counters.entriesDeleted += deleted;
          log.info(
            'cleanup.go',
            'Deleted stale conntrack entries',
            { servicePortName: flow.servicePortId, filter: args.join(' '), entriesDeleted: deleted },
            4,
          );
        }
        continue;
      }
      this.counters.failures++;
      if (isMissingTool(result)) return this.reportMissingTool(flows.length);
      log.error('cleanup.go', 'Failed to clear conntrack entries', {
        servicePortName: flow.servicePortId,
        filter: args.join(' '),
        exitCode: result.code,
        err: result.stderr.trim(),
      });
    }
  }

  /**
   * The flows that match an entry `conntrack -L` lists (one listing per family), so that no
   * process is spawned for a filter that would delete nothing; every flow of a family whose
   * listing failed; undefined when the tool is missing.
   */
  private async flowsWithEntries(flows: readonly ConntrackFlow[]): Promise<ConntrackFlow[] | undefined> {
    const kept: ConntrackFlow[] = [];
    for (const family of ['IPv4', 'IPv6'] as const) {
      const ofFamily = flows.filter((flow) => flow.family === family);
      if (ofFamily.length === 0) continue;
      const result = await this.run(['-L', '-f', family === 'IPv6' ? 'ipv6' : 'ipv4', '-p', 'udp']);
      if (result.code === 0) {
        kept.push(...flowsWithEntries(ofFamily, parseConntrackList(result.stdout)));
        continue;
      }
      this.counters.failures++;
      if (isMissingTool(result)) {
        this.reportMissingTool(flows.length);
        return undefined;
      }
      log.warning('cleanup.go', 'Failed to list conntrack entries, deleting by filter alone', {
        ipFamily: family,
        exitCode: result.code,
        err: result.stderr.trim(),
      });
      kept.push(...ofFamily);
    }
    return kept;
  }

  private reportMissingTool(filters: number): void {
    log.error('cleanup.go', 'Failed to clear conntrack entries: the conntrack tool is not installed', {
      filters,
      hint: 'install conntrack (conntrack-tools) so that stale UDP entries are deleted',
    });
  }
}

function isMissingTool(result: CommandResult): boolean {
  return result.code === 127 || MISSING_TOOL.test(result.stderr);
}

/** `state`, except that ports the data plane failed to program stay as they were in `before`. */
function keepFailedPorts(
  before: ProxyState | undefined,
  state: ProxyState,
  failed: ReadonlyMap<string, Error>,
): ProxyState {
  if (failed.size === 0) return state;
  const ports = new Map<string, ServicePortState>(state.servicePorts);
  for (const id of failed.keys()) {
    const old = before?.servicePorts.get(id);
    if (old) ports.set(id, old);
    else ports.delete(id);
  }
  return proxyStateOf(state.nodeName, ports);
}
