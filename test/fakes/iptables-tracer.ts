/** The packet tracer over parsed iptables rules (the one `kproxy trace` uses), with a shorthand for tests. */
import { parseIptablesRules } from '../../src/dataplanes/iptables/parse-rules.js';
import { type TraceOutcome, tracePacket } from '../../src/dataplanes/iptables/trace.js';

export { parseIptablesRules, type TraceOutcome, tracePacket };

export interface FlowSummary {
  /** Sorted endpoints reached by DNAT, or the verdict (`DROP`, `REJECT`) when nothing is DNATed; '' when no rule applies. */
  readonly output: string;
  readonly masquerade: boolean;
}

/** Traces one TCP packet through restore text, summarized as kube-proxy's packet-flow tests do. */
export function traceFlow(
  text: string,
  flow: {
    src: string;
    dst: string;
    port: number;
    localAddresses: string[];
    protocol?: 'tcp' | 'udp' | 'sctp';
  },
): FlowSummary {
  const outcomes = tracePacket(
    parseIptablesRules(text),
    {
      protocol: flow.protocol ?? 'tcp',
      sourceIP: flow.src,
      destinationIP: flow.dst,
      destinationPort: flow.port,
    },
    { localAddresses: flow.localAddresses },
  );
  const endpoints = [
    ...new Set(outcomes.flatMap((o) => (o.verdict === 'DNAT' && o.destination ? [o.destination] : []))),
  ].sort();
  const verdicts = [...new Set(outcomes.map((o) => o.verdict))].filter((v) => v !== 'DNAT');
  const output =
    endpoints.length > 0
      ? endpoints.join(', ')
      : verdicts.filter((v) => v !== 'NONE' && v !== 'ACCEPT').join(', ');
  return { output, masquerade: outcomes.some((o) => o.masquerade) };
}
