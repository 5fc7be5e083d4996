/**
 * A parser for `iptables-restore` input and `iptables-save [-c]` output: tables of chains of
 * rules, each rule's words split as iptables-restore splits them (double quotes group words, a
 * backslash escapes the next character). The packet tracer and `kproxy stats` read these.
 */

export interface ParsedRule {
  readonly chain: string;
  /** The words after `-A CHAIN`. */
  readonly args: readonly string[];
  /** 1-based line number in the text. */
  readonly line: number;
  /** `[packets:bytes]` from `iptables-save -c`. */
  readonly packets?: number;
  readonly bytes?: number;
}

export interface ParsedTable {
  /** Chains in the order declared; a chain only referenced by `-A` is added when first seen. */
  readonly chains: Map<string, ParsedRule[]>;
  /** `-X` deletions, in order. */
  readonly deleted: string[];
}

export type ParsedRules = Map<string, ParsedTable>;

export class RuleParseError extends Error {}

/** Splits a line into words as iptables-restore does. */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  let current = '';
  let inWord = false;
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const char = line[i] as string;
    if (char === '\\' && i + 1 < line.length) {
      current += line[++i];
      inWord = true;
    } else if (char === '"') {
      quoted = !quoted;
      inWord = true;
    } else if (!quoted && (char === ' ' || char === '\t')) {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
    } else {
      current += char;
      inWord = true;
    }
  }
  if (quoted) throw new RuleParseError(`unterminated quote in: ${line}`);
  if (inWord) words.push(current);
  return words;
}

export function parseIptablesRules(text: string): ParsedRules {
  const tables: ParsedRules = new Map();
  let table: ParsedTable | undefined;
  text.split('\n').forEach((raw, index) => {
    const lineNumber = index + 1;
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    if (line.startsWith('*')) {
      const name = line.slice(1);
      table = tables.get(name) ?? { chains: new Map(), deleted: [] };
      tables.set(name, table);
      return;
    }
    if (!table) throw new RuleParseError(`line ${lineNumber}: rule outside a table: ${line}`);
    if (line === 'COMMIT') {
      table = undefined;
      return;
    }
    if (line.startsWith(':')) {
      const name = line.slice(1).split(' ')[0] ?? '';
      table.chains.set(name, []);
      return;
    }
    parseRuleLine(table, line, lineNumber);
  });
  return tables;
}

function parseRuleLine(table: ParsedTable, line: string, lineNumber: number): void {
  let words = splitWords(line);
  let packets: number | undefined;
  let bytes: number | undefined;
  const counters = /^\[(\d+):(\d+)\]$/.exec(words[0] ?? '');
  if (counters) {
    packets = Number(counters[1]);
    bytes = Number(counters[2]);
    words = words.slice(1);
  }
  const [command, chain] = words;
  if (command === '-X' && chain) {
    table.chains.delete(chain);
    table.deleted.push(chain);
    return;
  }
  if (command !== '-A' || !chain) throw new RuleParseError(`line ${lineNumber}: not a rule: ${line}`);
  let rules = table.chains.get(chain);
  if (!rules) {
    rules = [];
    table.chains.set(chain, rules);
  }
  rules.push({ chain, args: words.slice(2), line: lineNumber, packets, bytes });
}

/** The value following `flag` in a rule's words, and whether a `!` preceded the flag. */
export function optionValue(
  args: readonly string[],
  flag: string,
): { value: string; negated: boolean } | undefined {
  const index = args.indexOf(flag);
  if (index < 0 || index + 1 >= args.length) return undefined;
  return { value: args[index + 1] as string, negated: args[index - 1] === '!' };
}

/** The `--comment` text of a rule, if any. */
export function ruleComment(rule: ParsedRule): string | undefined {
  return optionValue(rule.args, '--comment')?.value;
}
