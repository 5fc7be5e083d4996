import { isIP } from 'node:net';
import type { Command } from 'commander';
import { parseIptablesRules } from '../dataplanes/iptables/parse-rules.js';
import { renderIptablesRestore } from '../dataplanes/iptables/render.js';
import { type TraceOutcome, type TracePacket, tracePacket } from '../dataplanes/iptables/trace.js';
import { KproxyError } from '../errors.js';
import { addDryRunOptions, type DryRunFlags, loadDryRun } from './rules.js';

interface TraceFlags extends DryRunFlags {
  src: string;
  dst: string;
}

export function registerTrace(program: Command): void {
  addDryRunOptions(
    program
      .command('trace')
      .description(
        'walk a packet through the iptables rules kproxy would program: chains passed, endpoints reached, with probabilities',
      )
      .requiredOption('--src <ip>', "the packet's source address")
      .requiredOption(
        '--dst <ip:port/proto>',
        'the destination, e.g. 172.30.0.41:80/tcp or [fd00::1]:80/tcp',
      ),
  ).action((flags: TraceFlags) => {
    const packet = parsePacket(flags.src, flags.dst);
    const ipFamily = isIP(packet.destinationIP) === 6 ? 'IPv6' : 'IPv4';
    const { state, options } = loadDryRun({ ...flags, ipFamily });
    const rules = parseIptablesRules(renderIptablesRestore(state, options));
    const outcomes = tracePacket(rules, packet, { localAddresses: options.nodeIPs });
    console.log(formatTrace(packet, outcomes));
  });
}

export function parsePacket(src: string, dst: string): TracePacket {
  const match = /^(?:\[([^\]]+)\]|([^:/]+)):(\d+)(?:\/(tcp|udp|sctp))?$/i.exec(dst);
  const destinationIP = match?.[1] ?? match?.[2] ?? '';
  const port = Number(match?.[3]);
  if (!match || isIP(destinationIP) === 0 || port < 1 || port > 65535) {
    throw new KproxyError('KPROXY_E_USAGE', `--dst "${dst}" is not IP:PORT/PROTO`, {
      hint: 'e.g. --dst 172.30.0.41:80/tcp',
    });
  }
  if (isIP(src) === 0)
    throw new KproxyError('KPROXY_E_USAGE', `--src "${src}" is not an IP address`, {
      hint: 'e.g. --src 10.0.0.2',
    });
  const protocol = (match[4] ?? 'tcp').toLowerCase() as TracePacket['protocol'];
  return { protocol, sourceIP: src, destinationIP, destinationPort: port };
}

const percent = (p: number) => `${(p * 100).toFixed(2)}%`;

export function formatTrace(packet: TracePacket, outcomes: readonly TraceOutcome[]): string {
  const lines = [
    `${packet.protocol} ${packet.sourceIP} -> ${packet.destinationIP}:${packet.destinationPort}`,
  ];
  for (const outcome of outcomes) {
    const verdict =
      outcome.verdict === 'DNAT'
        ? `DNAT to ${outcome.destination}`
        : outcome.verdict === 'NONE'
          ? 'no Service rule matched (passes unchanged)'
          : outcome.verdict;
    lines.push(
      `  ${percent(outcome.probability).padStart(7)}  ${verdict}${outcome.masquerade ? ', masqueraded' : ''}`,
    );
    lines.push(`           via ${outcome.chains.join(' -> ')}`);
  }
  const endpoints = new Map<string, number>();
  for (const outcome of outcomes) {
    if (outcome.destination)
      endpoints.set(outcome.destination, (endpoints.get(outcome.destination) ?? 0) + outcome.probability);
  }
  if (endpoints.size > 0) {
    lines.push('endpoints:');
    for (const [endpoint, p] of endpoints) lines.push(`  ${endpoint.padEnd(24)} ${percent(p)}`);
  }
  return lines.join('\n');
}
