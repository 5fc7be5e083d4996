import { cidrContains } from './cidr.js';
import { optionValue, type ParsedRule, type ParsedRules } from './parse-rules.js';

/**
 * Walks a packet through parsed iptables rules the way the kernel would for a new connection:
 * nat (KUBE-SERVICES, from PREROUTING/OUTPUT) first, then the filter chains kproxy hooks into
 * INPUT/FORWARD/OUTPUT, then nat KUBE-POSTROUTING to decide masquerade. A `statistic` rule forks
 * the walk, so the result lists every possible outcome with its probability. `recent --rcheck`
 * (session affinity) is taken to miss, as for a client's first connection.
 */

export interface TracePacket {
  readonly protocol: 'tcp' | 'udp' | 'sctp';
  readonly sourceIP: string;
  readonly destinationIP: string;
  readonly destinationPort: number;
}

export interface TraceOptions {
  /** Addresses `-m addrtype LOCAL` matches (the node's own); loopback always matches. */
  readonly localAddresses: readonly string[];
}

export type TraceVerdict = 'DNAT' | 'ACCEPT' | 'DROP' | 'REJECT' | 'NONE';

export interface TraceOutcome {
  readonly probability: number;
  /** `table/chain` in the order the packet entered them. */
  readonly chains: readonly string[];
  readonly verdict: TraceVerdict;
  /** Set for DNAT: the endpoint `ip:port` chosen. */
  readonly destination?: string;
  readonly masquerade: boolean;
}

interface Walk {
  packet: TracePacket;
  mark: number;
  probability: number;
  chains: string[];
  verdict?: 'DNAT' | 'ACCEPT' | 'DROP' | 'REJECT' | 'MASQUERADE';
  destination?: string;
}

const filterEntryChains = ['KUBE-PROXY-FIREWALL', 'KUBE-EXTERNAL-SERVICES', 'KUBE-SERVICES'];

export function tracePacket(rules: ParsedRules, packet: TracePacket, options: TraceOptions): TraceOutcome[] {
  const tracer = new Tracer(rules, options);
  const start: Walk = { packet, mark: 0, probability: 1, chains: [] };
  const outcomes: TraceOutcome[] = [];
  for (const afterNat of tracer.run('nat', 'KUBE-SERVICES', start)) {
    const natVerdict = afterNat.verdict;
    afterNat.verdict = undefined;
    let walks = [afterNat];
    for (const chain of filterEntryChains) {
      walks = walks.flatMap((walk) => (walk.verdict ? [walk] : tracer.run('filter', chain, walk)));
    }
    for (const walk of walks) {
      if (walk.verdict === 'DROP' || walk.verdict === 'REJECT') {
        outcomes.push(outcome(walk, walk.verdict, false));
        continue;
      }
      const posted = tracer.run('nat', 'KUBE-POSTROUTING', { ...walk, verdict: undefined });
      for (const final of posted) {
        const verdict = natVerdict === 'DNAT' ? 'DNAT' : walk.verdict === 'ACCEPT' ? 'ACCEPT' : 'NONE';
        outcomes.push(outcome(final, verdict, final.verdict === 'MASQUERADE'));
      }
    }
  }
  return outcomes;
}

function outcome(walk: Walk, verdict: TraceVerdict, masquerade: boolean): TraceOutcome {
  return {
    probability: walk.probability,
    chains: walk.chains,
    verdict,
    destination: walk.destination,
    masquerade,
  };
}

class Tracer {
  constructor(
    private readonly rules: ParsedRules,
    private readonly options: TraceOptions,
  ) {}

  /** Runs `chain`; returns the walks that leave it (a terminal verdict set, or fallen through / returned). */
  run(table: string, chain: string, walk: Walk, depth = 0): Walk[] {
    const rules = this.rules.get(table)?.chains.get(chain);
    if (!rules || depth > 32) return [walk];
    const entered = { ...walk, chains: [...walk.chains, `${table}/${chain}`] };
    return this.runFrom(table, rules, 0, entered, depth);
  }

  private runFrom(
    table: string,
    rules: readonly ParsedRule[],
    start: number,
    walk: Walk,
    depth: number,
  ): Walk[] {
    for (let index = start; index < rules.length; index++) {
      const rule = rules[index] as ParsedRule;
      if (!this.matches(rule, walk)) continue;
      const continueAfter = (results: (Walk & { returned?: boolean })[]) =>
        results.flatMap((result) =>
          result.verdict || result.returned
            ? [{ ...result, returned: undefined }]
            : this.runFrom(table, rules, index + 1, result, depth),
        );
      const chance = optionValue(rule.args, '--probability');
      if (!chance) return continueAfter(this.apply(table, rule, walk, depth));
      const p = Number(chance.value);
      const taken = continueAfter(
        this.apply(table, rule, { ...walk, probability: walk.probability * p }, depth),
      );
      const skipped = this.runFrom(
        table,
        rules,
        index + 1,
        { ...walk, probability: walk.probability * (1 - p) },
        depth,
      );
      return [...taken, ...skipped].filter((w) => w.probability > 0);
    }
    return [walk];
  }

  /** Applies a matched rule's target; a walk with `returned` stops the current chain. */
  private apply(
    table: string,
    rule: ParsedRule,
    walk: Walk,
    depth: number,
  ): (Walk & { returned?: boolean })[] {
    const target = optionValue(rule.args, '-j')?.value;
    if (target === undefined) return [walk];
    switch (target) {
      case 'RETURN':
        return [{ ...walk, returned: true }];
      case 'ACCEPT':
      case 'DROP':
      case 'REJECT':
      case 'MASQUERADE':
        return [{ ...walk, verdict: target }];
      case 'DNAT': {
        const destination = optionValue(rule.args, '--to-destination')?.value ?? '';
        const [ip, port] = splitHostPort(destination);
        return [
          {
            ...walk,
            verdict: 'DNAT',
            destination,
            packet: { ...walk.packet, destinationIP: ip, destinationPort: port },
          },
        ];
      }
      case 'MARK': {
        const or = optionValue(rule.args, '--or-mark')?.value;
        const xor = optionValue(rule.args, '--xor-mark')?.value;
        const mark =
          or !== undefined ? walk.mark | Number(or) : xor !== undefined ? walk.mark ^ Number(xor) : walk.mark;
        return [{ ...walk, mark }];
      }
      default:
        // A jump: the walks that come back continue here; terminal ones end the whole walk.
        return this.run(table, target, walk, depth + 1);
    }
  }

  private matches(rule: ParsedRule, walk: Walk): boolean {
    const { args } = rule;
    const p = walk.packet;
    const checks: [string, (value: string) => boolean][] = [
      ['-s', (v) => cidrContains(v, p.sourceIP)],
      ['-d', (v) => cidrContains(v, p.destinationIP)],
      ['-p', (v) => v === p.protocol],
      ['--dport', (v) => Number(v) === p.destinationPort],
      ['--src-type', (v) => v === 'LOCAL' && this.isLocal(p.sourceIP)],
      ['--dst-type', (v) => v === 'LOCAL' && this.isLocal(p.destinationIP)],
      ['--ctstate', (v) => v.split(',').includes('NEW')],
      ['--mark', (v) => matchesMark(v, walk.mark)],
      ['--rcheck', () => false],
    ];
    for (const [flag, test] of checks) {
      const option =
        flag === '--rcheck'
          ? args.includes('--rcheck')
            ? { value: '', negated: false }
            : undefined
          : optionValue(args, flag);
      if (option && test(option.value) === option.negated) return false;
    }
    return true;
  }

  private isLocal(ip: string): boolean {
    return cidrContains('127.0.0.0/8', ip) || ip === '::1' || this.options.localAddresses.includes(ip);
  }
}

function matchesMark(spec: string, mark: number): boolean {
  const [value = '0', mask = '0xffffffff'] = spec.split('/');
  return (mark & Number(mask)) === Number(value);
}

function splitHostPort(text: string): [string, number] {
  const bracketed = /^\[(.+)\]:(\d+)$/.exec(text);
  if (bracketed) return [bracketed[1] as string, Number(bracketed[2])];
  const index = text.lastIndexOf(':');
  return [text.slice(0, index), Number(text.slice(index + 1))];
}
