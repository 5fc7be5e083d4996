/**
 * Walks a packet through a parsed kproxy nft table the way the kernel's hooks would, and lists
 * every outcome with its probability: where it is DNATed, whether it is masqueraded, dropped or
 * rejected, and which chains it passed. Random draws (`numgen`, `jhash`) branch over every value.
 */
import { isIPv6 } from 'node:net';
import type { ParsedTable } from './nft-parse.js';
import { clone, type Flow, runRule, type Step } from './nft-rule-eval.js';

export interface TracePacket {
  readonly src: string;
  readonly dst: string;
  readonly protocol: 'tcp' | 'udp' | 'sctp';
  readonly port: number;
  /** `outside`: arrives on an interface (prerouting); `local`: sent by a process on the node (output). */
  readonly from: 'outside' | 'local';
  readonly localAddresses: readonly string[];
  /** Affinity sets already holding clients: set name → addresses. */
  readonly remembered?: ReadonlyMap<string, readonly string[]>;
}

export interface TraceOutcome {
  readonly verdict: 'accept' | 'drop' | 'reject';
  /** `ip:port` after DNAT, if any. */
  readonly endpoint?: string;
  readonly masquerade: boolean;
  readonly probability: number;
  readonly chains: readonly string[];
  /** Affinity sets this connection was added to. */
  readonly remembers: readonly string[];
}

export function tracePacket(table: ParsedTable, packet: TracePacket): TraceOutcome[] {
  const start: Flow = {
    dst: packet.dst,
    port: packet.port,
    mark: 0,
    dnat: false,
    masquerade: false,
    chains: [],
    remembers: [],
  };
  const hooks =
    packet.from === 'outside' ? ['prerouting', 'routing', 'postrouting'] : ['output', 'postrouting'];
  let flows: { flow: Flow; p: number; verdict?: TraceOutcome['verdict'] }[] = [{ flow: start, p: 1 }];
  for (const hook of hooks) {
    const next: typeof flows = [];
    for (const item of flows) {
      if (item.verdict) {
        next.push(item);
        continue;
      }
      const actual =
        hook === 'routing' ? (packet.localAddresses.includes(item.flow.dst) ? 'input' : 'forward') : hook;
      for (const result of runHook(table, packet, actual, item.flow))
        next.push({ ...result, p: item.p * result.p });
    }
    flows = next;
  }
  return merge(
    flows.map(({ flow, p, verdict }) => ({
      verdict: verdict ?? 'accept',
      endpoint: flow.dnat ? hostPort(flow.dst, flow.port) : undefined,
      masquerade: flow.masquerade,
      probability: p,
      chains: flow.chains,
      remembers: flow.remembers,
    })),
  );
}

function runHook(table: ParsedTable, packet: TracePacket, hook: string, flow: Flow) {
  const bases = [...table.chains.values()]
    .filter((chain) => chain.hook?.hook === hook)
    .sort((a, b) => (a.hook?.priority ?? 0) - (b.hook?.priority ?? 0));
  let flows: { flow: Flow; p: number; verdict?: TraceOutcome['verdict'] }[] = [{ flow, p: 1 }];
  for (const base of bases) {
    const next: typeof flows = [];
    for (const item of flows) {
      if (item.verdict) {
        next.push(item);
        continue;
      }
      for (const step of runChain(table, packet, base.name, clone(item.flow))) {
        const p = item.p * step.p;
        if (step.kind === 'drop' || step.kind === 'reject')
          next.push({ flow: step.flow, p, verdict: step.kind });
        else if (step.kind === 'masquerade') next.push({ flow: { ...step.flow, masquerade: true }, p });
        else next.push({ flow: step.flow, p });
      }
    }
    flows = next;
  }
  return flows;
}

function runChain(table: ParsedTable, packet: TracePacket, name: string, flow: Flow): Step[] {
  const chain = table.chains.get(name);
  if (!chain) throw new Error(`no chain ${name}`);
  flow.chains.push(name);
  let pending: Step[] = [{ kind: 'next', flow, p: 1 }];
  const done: Step[] = [];
  for (const rule of chain.rules) {
    const next: Step[] = [];
    for (const item of pending) {
      for (const step of runRule(table, packet, rule, clone(item.flow), (how, target, f, p) =>
        subchain(table, packet, how, target, f, p),
      )) {
        const p = item.p * step.p;
        if (step.kind === 'next') next.push({ ...step, p });
        else done.push({ ...step, p });
      }
    }
    pending = next;
  }
  return [...done, ...pending.map((item) => ({ ...item, kind: 'return' as const }))];
}

function subchain(
  table: ParsedTable,
  packet: TracePacket,
  how: string,
  name: string,
  flow: Flow,
  p: number,
): Step[] {
  return runChain(table, packet, name, flow).map((step) => {
    const kind = step.kind === 'return' ? (how === 'goto' ? 'return' : 'next') : step.kind;
    return { ...step, kind, p: p * step.p };
  });
}

function hostPort(ip: string, port: number): string {
  return isIPv6(ip) ? `[${ip}]:${port}` : `${ip}:${port}`;
}

function merge(outcomes: TraceOutcome[]): TraceOutcome[] {
  const byKey = new Map<string, TraceOutcome>();
  for (const outcome of outcomes) {
    const key = `${outcome.verdict}|${outcome.endpoint}|${outcome.masquerade}|${outcome.chains.join(',')}`;
    const seen = byKey.get(key);
    byKey.set(key, seen ? { ...seen, probability: seen.probability + outcome.probability } : outcome);
  }
  return [...byKey.values()];
}
