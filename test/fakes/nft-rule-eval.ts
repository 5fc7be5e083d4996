/**
 * One nft rule of kproxy's table, evaluated for one packet: the match expressions, maps and
 * statements the renderers write (anything else is an error). Used by nft-trace.ts.
 */
import { BlockList, isIPv6 } from 'node:net';
import type { ParsedTable } from './nft-parse.js';
import type { TracePacket } from './nft-trace.js';

export interface Flow {
  dst: string;
  port: number;
  mark: number;
  dnat: boolean;
  masquerade: boolean;
  chains: string[];
  remembers: string[];
}

export type Step = {
  kind: 'next' | 'return' | 'accept' | 'drop' | 'reject' | 'dnat' | 'masquerade';
  flow: Flow;
  p: number;
};

/** Enters a chain (`jump`/`goto`), returning what it ends in. */
export type EnterChain = (how: 'jump' | 'goto', name: string, flow: Flow, p: number) => Step[];

export function runRule(
  table: ParsedTable,
  packet: TracePacket,
  rule: string,
  flow: Flow,
  enter: EnterChain,
): Step[] {
  const tokens = tokenize(rule);
  const source = tokens.findIndex((t) => t === 'numgen' || t === 'jhash');
  if (source < 0) return evaluate(table, packet, tokens, flow, 0, 1, enter);
  const mod = tokens.indexOf('mod', source);
  const n = Number(tokens[mod + 1]);
  const steps: Step[] = [];
  for (let draw = 0; draw < n; draw++)
    steps.push(...evaluate(table, packet, tokens, clone(flow), draw, 1 / n, enter));
  return steps;
}

function evaluate(
  table: ParsedTable,
  packet: TracePacket,
  t: string[],
  flow: Flow,
  draw: number,
  p: number,
  enter: EnterChain,
): Step[] {
  const keyword = table.family;
  let i = 0;
  const value = (): string => {
    const parts: string[] = [];
    do {
      const w = t[i++];
      if (w === keyword && t[i] === 'saddr') parts.push(packet.src);
      else if (w === keyword && t[i] === 'daddr') parts.push(flow.dst);
      else if (w === 'meta' && t[i] === 'l4proto') parts.push(packet.protocol);
      else if (w === 'th' && t[i] === 'dport') parts.push(String(flow.port));
      else if (w === 'numgen' || w === 'jhash') {
        // `numgen random|inc mod N`, `jhash ip saddr mod N`: the draw this branch fixed.
        parts.push(String(draw));
        i = t.indexOf('mod', i) + 1;
      } else throw new Error(`not understood in "${t.join(' ')}": ${w}`);
      i++;
      if (t[i] === 'seed') i += 2;
    } while (t[i] === '.' && i++);
    return parts.join(' . ');
  };
  const literalSet = (): string[] => {
    const items: string[] = [];
    for (i++; t[i] !== '}'; i++) if (t[i] !== ',') items.push(t[i] as string);
    i++;
    return items;
  };
  const inlineMap = (): Map<string, string> => {
    const entries = new Map<string, string>();
    let current: string[] = [];
    for (i++; t[i] !== '}'; i++) {
      if (t[i] === ',') {
        entries.set(...splitEntry(current));
        current = [];
      } else current.push(t[i] as string);
    }
    if (current.length > 0) entries.set(...splitEntry(current));
    i++;
    return entries;
  };
  const mapNamed = (name: string) => table.maps.get(name.slice(1)) ?? fail(`no map ${name}`);
  const lookup = () => (t[i] === '{' ? inlineMap() : mapNamed(t[i++] as string));
  while (i < t.length) {
    const w = t[i] as string;
    if (w === 'ct' && t[i + 1] === 'state') i += 3;
    else if (w === 'ct' && t[i + 1] === 'status') {
      if (!flow.dnat) return [{ kind: 'next', flow, p }];
      i += 3;
    } else if (w === 'fib') {
      if (!packet.localAddresses.includes(flow.dst)) return [{ kind: 'next', flow, p }];
      i += 4;
    } else if (w === 'meta' && t[i + 1] === 'mark' && t[i + 2] === 'set') {
      const operand = Number(t[i + 6]);
      flow.mark = t[i + 5] === '|' ? flow.mark | operand : flow.mark & operand;
      i += 7;
    } else if (w === 'meta' && t[i + 1] === 'mark' && t[i + 2] === '&') {
      if ((flow.mark & Number(t[i + 3])) !== Number(t[i + 5])) return [{ kind: 'next', flow, p }];
      i += 6;
    } else if (w === 'update') {
      flow.remembers.push((t[i + 1] as string).slice(1));
      i += 6;
    } else if (w === 'dnat') {
      i += 2;
      let target: string;
      if (/^[\d[]/.test(t[i] ?? '') && t[i + 1] !== 'map' && t[i + 1] !== '.') target = t[i] as string;
      else {
        const key = value();
        i++;
        const data = lookup().get(key);
        if (!data) return [{ kind: 'next', flow, p }];
        const [ip = '', port = ''] = data.split(' . ');
        target = isIPv6(ip) ? `[${ip}]:${port}` : `${ip}:${port}`;
      }
      const [ip, port] = splitHostPort(target);
      return [{ kind: 'accept', flow: { ...flow, dst: ip, port, dnat: true }, p }];
    } else if (['masquerade', 'reject', 'drop', 'accept', 'return'].includes(w)) {
      return [{ kind: w as Step['kind'], flow, p }];
    } else if (w === 'jump' || w === 'goto') {
      return enter(w, t[i + 1] as string, flow, p);
    } else {
      const key = value();
      const op = t[i];
      if (op === 'vmap') {
        i++;
        const verdict = lookup().get(key);
        if (!verdict) return [{ kind: 'next', flow, p }];
        const [kind, target] = verdict.split(' ');
        if (kind === 'goto' || kind === 'jump') return enter(kind, target as string, flow, p);
        return [{ kind: kind as Step['kind'], flow, p }];
      }
      const negate = op === '!=';
      if (negate) i++;
      let found: boolean;
      if (t[i]?.startsWith('@'))
        found = mapNamed(t[i++] as string).has(key) || setHas(packet, t[i - 1] as string, key);
      else if (t[i] === '{') found = literalSet().some((item) => matches(key, item));
      else found = matches(key, t[i++] as string);
      if (found === negate) return [{ kind: 'next', flow, p }];
    }
  }
  return [{ kind: 'next', flow, p }];
}

function setHas(packet: TracePacket, name: string, key: string): boolean {
  return packet.remembered?.get(name.slice(1))?.includes(key) ?? false;
}

function matches(key: string, item: string): boolean {
  if (!item.includes('/')) return key === item || (key === '0' && item === '0x00000000');
  const [base = '', bits = '0'] = item.split('/');
  const list = new BlockList();
  const family = isIPv6(base) ? 'ipv6' : 'ipv4';
  list.addSubnet(base, Number(bits), family);
  return (isIPv6(key) ? 'ipv6' : 'ipv4') === family && list.check(key, family);
}

function tokenize(rule: string): string[] {
  return rule
    .split(/\s+/)
    .flatMap((word) => (word.endsWith(',') && word.length > 1 ? [word.slice(0, -1), ','] : [word]));
}

function splitEntry(tokens: string[]): [string, string] {
  const colon = tokens.indexOf(':');
  return [tokens.slice(0, colon).join(' '), tokens.slice(colon + 1).join(' ')];
}

function splitHostPort(target: string): [string, number] {
  const v6 = /^\[(.+)\]:(\d+)$/.exec(target) ?? /^(.+)#(\d+)$/.exec(target);
  if (v6?.[1]) return [v6[1], Number(v6[2])];
  const [ip = '', port = '0'] = target.split(':');
  return [ip, Number(port)];
}

export function clone(flow: Flow): Flow {
  return { ...flow, chains: [...flow.chains], remembers: [...flow.remembers] };
}

function fail(message: string): never {
  throw new Error(message);
}
