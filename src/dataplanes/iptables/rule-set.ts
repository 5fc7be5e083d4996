/**
 * The rules of one family as data: chains per table, each rule tagged with the Service port it
 * belongs to. The renderer builds one; the serializer writes all of it (a full sync) or only some
 * chains (a partial sync), and remembers which line came from which Service so that a failing
 * `iptables-restore` line can be blamed on its Service.
 */

export type IptablesTable = 'filter' | 'nat';

export interface IptablesRule {
  /** Everything after `-A CHAIN `. */
  readonly spec: string;
  /** The Service port (`ns/name:port`) this rule exists for; unset for kproxy's own rules. */
  readonly owner?: string;
}

export interface IptablesChain {
  readonly table: IptablesTable;
  readonly name: string;
  /** The Service port owning the whole chain (KUBE-SVC/SVL/EXT/FW/SEP); unset for top-level chains. */
  readonly owner?: string;
  readonly rules: IptablesRule[];
}

export interface IptablesRuleSet {
  /** In the order they are written: the top-level chains first, then per-Service chains. */
  readonly chains: readonly IptablesChain[];
}

export function chainKey(table: IptablesTable, name: string): string {
  return `${table}/${name}`;
}

/** Collects chains in creation order; top-level chains are created up front so they come first. */
export class RuleSetBuilder {
  private readonly chains: IptablesChain[] = [];
  // By table, then name: looked up once per rule, so no `table/name` key string is built each time.
  private readonly byTable = new Map<IptablesTable, Map<string, IptablesChain>>();

  chain(table: IptablesTable, name: string, owner?: string): IptablesChain {
    let byName = this.byTable.get(table);
    if (!byName) {
      byName = new Map();
      this.byTable.set(table, byName);
    }
    let chain = byName.get(name);
    if (!chain) {
      chain = { table, name, owner, rules: [] };
      byName.set(name, chain);
      this.chains.push(chain);
    }
    return chain;
  }

  rule(table: IptablesTable, chainName: string, spec: string, owner?: string): void {
    this.chain(table, chainName).rules.push({ spec, owner });
  }

  build(): IptablesRuleSet {
    return { chains: [...this.chains] };
  }
}
