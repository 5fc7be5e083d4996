import { chainKey, type IptablesChain, type IptablesRuleSet, type IptablesTable } from './rule-set.js';
import { quoteWord } from './rule-text.js';
import type { BuiltinJump } from './top-level-rules.js';

export interface RestoreText {
  readonly text: string;
  /** For each 1-based line number, the Service port whose rule it is (index 0 unused). */
  readonly lineOwners: readonly (string | undefined)[];
}

/** One `-D` / `-I` line for a chain that is edited rather than rewritten. */
export interface ChainEdit {
  readonly table: IptablesTable;
  readonly line: string;
  readonly owner?: string;
}

export interface SerializeOptions {
  /** Chains to write; all when unset (a full sync). Declaring a chain flushes it, so a written chain is rewritten whole. */
  readonly include?: (chain: IptablesChain) => boolean;
  /** `table/name` keys of chains to delete (`-X`), e.g. those of removed Services. */
  readonly deleteChains?: Iterable<string>;
  /** The Service port a deleted chain belonged to, so a failing `-X` is blamed on it. */
  readonly ownerOfDeleted?: (key: string) => string | undefined;
  /** Edits to chains that are not rewritten (written after the rewritten chains, before deletions). */
  readonly edits?: readonly ChainEdit[];
  /** Rules to insert at the head of built-in chains (the jumps into kproxy's chains that are missing). */
  readonly insertRules?: readonly BuiltinJump[];
}

const tables: readonly IptablesTable[] = ['filter', 'nat'];

/** Writes a rule set as `iptables-restore --noflush` input. */
export function serializeRuleSet(ruleSet: IptablesRuleSet, options: SerializeOptions = {}): RestoreText {
  const lines: string[] = [];
  const lineOwners: (string | undefined)[] = [undefined];
  const push = (line: string, owner?: string) => {
    lines.push(line);
    lineOwners.push(owner);
  };
  const deletions = new Set(options.deleteChains ?? []);
  for (const table of tables) {
    const chains = ruleSet.chains.filter(
      (chain) => chain.table === table && (options.include?.(chain) ?? true),
    );
    const deleted = [...deletions].filter((key) => key.startsWith(`${table}/`));
    const inserts = (options.insertRules ?? []).filter((rule) => rule.table === table);
    const edits = (options.edits ?? []).filter((edit) => edit.table === table);
    if (chains.length + deleted.length + inserts.length + edits.length === 0) continue;
    push(`*${table}`);
    for (const chain of chains) push(`:${chain.name} - [0:0]`, chain.owner);
    // A chain is flushed before it is deleted, so rules in other chains that jumped to it are gone first.
    for (const key of deleted) push(`:${key.slice(table.length + 1)} - [0:0]`);
    for (const chain of chains) {
      for (const rule of chain.rules) push(`-A ${chain.name} ${rule.spec}`, rule.owner ?? chain.owner);
    }
    for (const edit of edits) push(edit.line, edit.owner);
    for (const key of deleted) push(`-X ${key.slice(table.length + 1)}`, options.ownerOfDeleted?.(key));
    for (const rule of inserts) push(`-I ${rule.chain} ${rule.args.map(quoteWord).join(' ')}`);
    push('COMMIT');
  }
  return { text: lines.length > 0 ? `${lines.join('\n')}\n` : '', lineOwners };
}

/** Every chain key in a rule set. */
export function chainKeys(ruleSet: IptablesRuleSet): Set<string> {
  return new Set(ruleSet.chains.map((chain) => chainKey(chain.table, chain.name)));
}
