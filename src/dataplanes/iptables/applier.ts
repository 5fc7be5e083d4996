import { KproxyError } from '../../errors.js';
import type { IPFamily } from '../../model/service.js';
import { type CommandResult, runCommand, runCommandFed } from '../netns.js';
import { chunksOfRestoreText, type RestoreChunk, RestoreLedger } from './restore-chunks.js';
import type { RestoreText } from './serialize.js';

/**
 * Runs `iptables-restore --noflush` (or ip6tables-restore) and `iptables-save` in a network
 * namespace. A rejected restore is turned into an error naming the Service whose line failed.
 */

export interface IptablesApplierOptions {
  readonly family: IPFamily;
  /** Network namespace to program; the current one when unset. */
  readonly netns?: string;
  /** Pass `--wait` so a concurrent iptables user does not make the restore fail. */
  readonly wait?: boolean;
  /** Which iptables to run: the system's default (`iptables-restore`), or `iptables-legacy-*` / `iptables-nft-*` explicitly. */
  readonly backend?: IptablesBackend;
}

export type IptablesBackend = 'default' | 'legacy' | 'nft';

export class RestoreRejected extends KproxyError {
  constructor(
    message: string,
    /** The Service port whose rule failed, when the failing line belongs to one. */
    readonly servicePortId: string | undefined,
  ) {
    super('KPROXY_E_RULES_REJECTED', message, {
      hint: 'the previous rules stay in place and the next sync rewrites everything; `kproxy rules` shows the text',
    });
  }
}

export class IptablesApplier {
  constructor(private readonly options: IptablesApplierOptions) {}

  private tool(name: 'restore' | 'save' | 'cmd'): string {
    const family = this.options.family === 'IPv6' ? 'ip6tables' : 'iptables';
    const backend = this.options.backend ?? 'default';
    const base = backend === 'default' ? family : `${family}-${backend}`;
    return name === 'cmd' ? base : `${base}-${name}`;
  }

  async restore(restore: RestoreText): Promise<void> {
    await this.restoreChunks(chunksOfRestoreText(restore));
  }

  /**
   * Loads restore input chunk by chunk while iptables-restore is already reading it: the chunks
   * are produced only as they are written (a full sync renders its Service ports once the table
   * header is out, while the tool loads the kernel's current table). Stops producing once the
   * tool has given up.
   */
  async restoreChunks(chunks: Iterable<RestoreChunk>): Promise<void> {
    const iterator = chunks[Symbol.iterator]();
    const first = iterator.next();
    if (first.done) return;
    const argv = [this.tool('restore'), '--noflush', ...(this.options.wait ? ['--wait'] : [])];
    const ledger = new RestoreLedger();
    const result = await runCommandFed(argv, {
      netns: this.options.netns,
      feed: async (input) => {
        for (let step: IteratorResult<RestoreChunk> = first; !step.done; step = iterator.next()) {
          ledger.add(step.value);
          if (!(await input.write(step.value.text))) return;
        }
      },
    });
    if (result.code === 0) return;
    if (result.code === 127) throw toolError(argv, result.stderr);
    throw rejection(argv, result, ledger);
  }

  /** Current rules as `iptables-save` prints them (`-c`: with counters). */
  async save(options: { table?: string; counters?: boolean } = {}): Promise<string> {
    const argv = [
      this.tool('save'),
      ...(options.table ? ['-t', options.table] : []),
      ...(options.counters ? ['-c'] : []),
    ];
    const result = await runCommand(argv, { netns: this.options.netns });
    if (result.code !== 0) throw toolError(argv, result.stderr);
    return result.stdout;
  }
}

function rejection(argv: readonly string[], result: CommandResult, ledger: RestoreLedger): RestoreRejected {
  const number = failingLine(result.stderr);
  const line = number === undefined ? undefined : ledger.line(number);
  const where = line?.owner
    ? `Service port ${line.owner}`
    : line !== undefined
      ? 'a shared chain'
      : 'an unknown line';
  const detail =
    result.stderr
      .split('\n')
      .find((l) => l.trim() !== '')
      ?.trim() ?? `exit ${result.code}`;
  return new RestoreRejected(
    `${argv[0]} rejected the rules of ${where}${line !== undefined ? ` at line ${number}: ${line.text}` : ''} (${detail})`,
    line?.owner,
  );
}

/**
 * The failing line number: `Error occurred at line: N` (parse errors), `line N failed` (legacy
 * commit errors) or `line N: CHAIN_DEL failed …` (nf_tables commit errors).
 */
export function failingLine(stderr: string): number | undefined {
  const match = /Error occurred at line: (\d+)/.exec(stderr) ?? /line (\d+)(?: failed|:)/.exec(stderr);
  return match ? Number(match[1]) : undefined;
}

export function toolError(argv: readonly string[], stderr: string): KproxyError {
  return new KproxyError(
    'KPROXY_E_KERNEL_TOOL',
    `${argv.join(' ')} failed: ${stderr.trim() || 'no output'}`,
    {
      hint: 'run as root (or with CAP_NET_ADMIN) and install iptables (apt-get install iptables)',
    },
  );
}
