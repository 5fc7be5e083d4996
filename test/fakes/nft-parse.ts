/**
 * A parser for the nft text kproxy renders (`table ip kproxy { … }`): maps and sets with their
 * elements, chains with their rules and, for base chains, their hook and priority. Good enough
 * to trace packets through; anything it does not recognise is an error, so a renderer change the
 * tracer cannot follow fails the tests instead of passing silently.
 */

export interface ParsedChain {
  readonly name: string;
  readonly hook?: { readonly type: string; readonly hook: string; readonly priority: number };
  readonly rules: readonly string[];
}

export interface ParsedTable {
  readonly family: 'ip' | 'ip6';
  readonly name: string;
  /** Map and set contents: key → value ('' for set elements). */
  readonly maps: ReadonlyMap<string, ReadonlyMap<string, string>>;
  readonly chains: ReadonlyMap<string, ParsedChain>;
}

const priorities: Record<string, number> = { dstnat: -100, srcnat: 100, filter: 0, mangle: -150, raw: -300 };

export function parsePriority(text: string): number {
  const match = /^(-?\d+|[a-z]+)(?:\s*([+-])\s*(\d+))?$/.exec(text.trim());
  if (!match?.[1]) throw new Error(`unknown priority: ${text}`);
  const base = match[1] in priorities ? (priorities[match[1]] as number) : Number(match[1]);
  const offset = match[3] ? Number(match[3]) * (match[2] === '-' ? -1 : 1) : 0;
  return base + offset;
}

/** Splits one element line into key and value, dropping the comment and the trailing comma. */
export function parseElement(line: string): [string, string] {
  const text = line
    .trim()
    .replace(/,$/, '')
    .replace(/ comment "[^"]*"/, '');
  const colon = text.indexOf(' : ');
  return colon < 0 ? [text, ''] : [text.slice(0, colon), text.slice(colon + 3)];
}

export function parseNftTable(text: string): ParsedTable {
  const lines = text.split('\n').map((line) => line.trim());
  const head = /^table (ip6?) (\S+) \{$/.exec(lines[0] ?? '');
  if (!head?.[1] || !head[2]) throw new Error(`not a table: ${lines[0]}`);
  const maps = new Map<string, Map<string, string>>();
  const chains = new Map<string, ParsedChain>();
  let i = 1;
  while (i < lines.length) {
    const line = lines[i] ?? '';
    const oneLineSet = /^(set|map) (\S+) \{ .* \}$/.exec(line);
    const block = /^(set|map|chain) (\S+) \{$/.exec(line);
    if (oneLineSet?.[2]) {
      maps.set(oneLineSet[2], new Map());
      i++;
    } else if (block?.[1] === 'chain' && block[2]) {
      const rules: string[] = [];
      let hook: ParsedChain['hook'];
      for (i++; lines[i] !== '}'; i++) {
        const rule = lines[i] ?? '';
        const base = /^type (\w+) hook (\w+) priority ([^;]+); policy accept;$/.exec(rule);
        if (base?.[1] && base[2] && base[3])
          hook = { type: base[1], hook: base[2], priority: parsePriority(base[3]) };
        else if (!rule.startsWith('comment ')) rules.push(rule);
        if (i >= lines.length) throw new Error(`chain ${block[2]} not closed`);
      }
      chains.set(block[2], { name: block[2], hook, rules });
      i++;
    } else if (block?.[2]) {
      const elements = new Map<string, string>();
      for (i++; lines[i] !== '}'; i++) {
        if (lines[i] === 'elements = {') {
          for (i++; lines[i] !== '}'; i++) elements.set(...parseElement(lines[i] ?? ''));
        }
        if (i >= lines.length) throw new Error(`${block[2]} not closed`);
      }
      maps.set(block[2], elements);
      i++;
    } else if (line === '}' || line === '') {
      i++;
    } else {
      throw new Error(`line ${i + 1} not understood: ${line}`);
    }
  }
  return { family: head[1] as 'ip' | 'ip6', name: head[2], maps, chains };
}
