/**
 * Benchmark inputs: a ProxyState of `services` × `endpoints`, and, as the anchor, the nftables
 * layout kube-proxy programs (a chain per Service and per endpoint, the Service chain choosing an
 * endpoint chain with `numgen random mod N vmap`), written here from its documented shape.
 */
import { freezeProxyState, type ProxyState, type ServicePortState } from '../src/model/proxy-state.js';
import { endpoint, servicePort } from '../test/dataplanes/nftables/fixtures.js';

export function clusterIPOf(i: number): string {
  return `172.20.${i >> 8}.${i & 255}`;
}

/**
 * Service i with its endpoints; `localEvery` = k puts every k-th endpoint on this node (1: all
 * local, the most hairpin pairs; 100: a 100-node cluster).
 */
export function scaleServicePort(
  i: number,
  endpoints: number,
  generation = 0,
  localEvery = 1,
): ServicePortState {
  return servicePort({
    id: `bench/svc-${i}:http`,
    clusterIP: clusterIPOf(i),
    endpoints: Array.from({ length: endpoints }, (_, e) =>
      endpoint(
        `10.${64 + (i >> 12)}.${(i >> 4) & 255}.${((i & 15) << 4) + e + generation}`,
        8080,
        (i * endpoints + e) % localEvery === 0,
      ),
    ),
  });
}

export function scaleState(services: number, endpoints: number, localEvery = 1): ProxyState {
  return freezeProxyState(
    'node-a',
    Array.from({ length: services }, (_, i) => scaleServicePort(i, endpoints, 0, localEvery)),
  );
}

/** kube-proxy's chain-per-endpoint layout for the same state (masquerade and NodePort parts left out). */
export function chainPerEndpointTable(state: ProxyState): string {
  const lines = [
    'table ip kube-proxy-bench {',
    '\tchain mark-for-masquerade {',
    '\t\tmeta mark set meta mark | 0x4000',
    '\t}',
  ];
  const vmap: string[] = [];
  let n = 0;
  for (const port of state.servicePorts.values()) {
    const svc = `service-${n}-${port.namespace}/${port.name}/tcp/http`.replace(/\//g, '_');
    const chains = port.clusterEndpoints.map((ep, e) =>
      `endpoint-${n}-${e}-${ep.ip}-8080`.replace(/\./g, '_'),
    );
    port.clusterEndpoints.forEach((ep, e) => {
      lines.push(`\tchain ${chains[e]} {`, `\t\tip saddr ${ep.ip} jump mark-for-masquerade`);
      lines.push(`\t\tmeta l4proto tcp dnat to ${ep.ip}:${ep.port}`, '\t}');
    });
    const choices = chains.map((chain, e) => `${e} : goto ${chain}`).join(', ');
    lines.push(
      `\tchain ${svc} {`,
      `\t\tip daddr ${port.clusterIPs[0]} tcp dport ${port.port} ip saddr != 10.0.0.0/8 jump mark-for-masquerade`,
    );
    lines.push(`\t\tnumgen random mod ${chains.length} vmap { ${choices} }`, '\t}');
    vmap.push(`${port.clusterIPs[0]} . tcp . ${port.port} : goto ${svc}`);
    n++;
  }
  lines.push(
    '\tmap service-ips {',
    '\t\ttype ipv4_addr . inet_proto . inet_service : verdict',
    `\t\telements = { ${vmap.join(', ')} }`,
    '\t}',
  );
  lines.push('\tchain services {', '\t\tip daddr . meta l4proto . th dport vmap @service-ips', '\t}');
  lines.push(
    '\tchain nat-prerouting {',
    '\t\ttype nat hook prerouting priority dstnat; policy accept;',
    '\t\tjump services',
    '\t}',
    '}',
  );
  return `${lines.join('\n')}\n`;
}

/** The transaction kube-proxy's layout needs to change one Service's endpoints: rewrite its chains. */
export function chainPerEndpointChange(state: ProxyState, index: number): string {
  const full = chainPerEndpointTable(state).split('\n');
  const port = [...state.servicePorts.values()][index];
  if (!port) throw new Error('no such service');
  const svc = `service-${index}-`;
  const out: string[] = [];
  for (let i = 0; i < full.length; i++) {
    const line = full[i] ?? '';
    const chain = /^\tchain (\S+) \{$/.exec(line)?.[1];
    if (chain && (chain.startsWith(svc) || chain.startsWith(`endpoint-${index}-`))) {
      out.push(`add chain ip kube-proxy-bench ${chain}`, `flush chain ip kube-proxy-bench ${chain}`);
      for (i++; full[i] !== '\t}'; i++)
        out.push(`add rule ip kube-proxy-bench ${chain} ${(full[i] ?? '').trim()}`);
    }
  }
  return `${out.join('\n')}\n`;
}
