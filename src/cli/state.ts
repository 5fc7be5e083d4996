import { hostname } from 'node:os';
import type { Command } from 'commander';
import { loadProxyConfig } from '../config/load-config.js';
import { StateCollector } from '../control/state-collector.js';
import { KproxyError } from '../errors.js';
import { formatTable } from '../lab/load/print-summary.js';
import { type Endpoint, endpointAddress } from '../model/endpoint.js';
import type { ProxyState, ServicePortState } from '../model/proxy-state.js';
import { effectiveSchedulerFlags } from '../schedulers/registry.js';
import { ManifestSource } from '../sources/manifest-source.js';
import { positiveInteger } from './options.js';

interface StateFlags {
  config: string;
  manifests?: string[];
  kubeconfig?: string;
  master?: string;
  hostnameOverride?: string;
  output: string;
  timeout: number;
}

export function registerState(program: Command): void {
  program
    .command('state')
    .description('the computed state: each service port, its frontends, policies and chosen endpoints')
    .requiredOption('--config <file>', 'KubeProxyConfiguration file or kube-proxy ConfigMap')
    .option('--manifests <path...>', 'Service/EndpointSlice manifest files or directories')
    .option('--kubeconfig <file>', 'read the Services and EndpointSlices of this cluster instead')
    .option('--master <url>', 'API server URL (overrides the kubeconfig)')
    .option('--timeout <seconds>', 'how long to wait for the API lists', positiveInteger, 30)
    .option('--hostname-override <name>', 'the node name endpoints are local to (default: the host name)')
    .option('--output <format>', 'table or json', 'table')
    .action(async (flags: StateFlags) => {
      if (flags.output !== 'table' && flags.output !== 'json') {
        throw new KproxyError('KPROXY_E_USAGE', `--output ${JSON.stringify(flags.output)} is not known`, {
          hint: 'use --output table or --output json',
        });
      }
      const config = loadProxyConfig(flags.config);
      const nodeName = flags.hostnameOverride ?? hostname().toLowerCase();
      const collector = new StateCollector(nodeName);
      await collectFrom(flags, nodeName, collector);
      const { state } = collector.build();
      for (const problem of collector.problems) console.error(`kproxy: ${problem.describe()}`);
      const rejected = collector.problems.filter(
        (p) => p.code === 'KPROXY_E_MANIFEST' || p.code === 'KPROXY_E_API_OBJECT',
      );
      if (flags.output === 'json') console.log(JSON.stringify(stateAsJson(state), null, 2));
      else console.log(formatStateTable(state, config.ipvs.scheduler, config.mode));
      if (rejected.length > 0) {
        throw new KproxyError('KPROXY_E_MANIFEST', `${rejected.length} object(s) rejected (listed above)`, {
          hint: 'the table shows every other object; fix the rejected ones',
        });
      }
    });
}

/** Fills the collector from the manifests, or from the API once its initial lists are in. */
async function collectFrom(flags: StateFlags, nodeName: string, collector: StateCollector): Promise<void> {
  const fromApi = flags.kubeconfig !== undefined || flags.master !== undefined;
  if (fromApi === (flags.manifests !== undefined)) {
    throw new KproxyError('KPROXY_E_USAGE', 'give either --manifests or --kubeconfig/--master', {
      hint: 'kproxy state --config FILE --manifests DIR, or --kubeconfig FILE for a cluster',
    });
  }
  if (flags.manifests) {
    await new ManifestSource({ paths: flags.manifests }).start(collector);
    return;
  }
  const { KubeApiSource } = await import('../sources/kube-api-source.js');
  const source = new KubeApiSource({ kubeconfig: flags.kubeconfig, master: flags.master, nodeName });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(listTimeout(source.description, flags.timeout)), flags.timeout * 1000);
  });
  try {
    await source.start(collector);
    await Promise.race([collector.whenSynced(), timedOut]);
  } finally {
    clearTimeout(timer);
    await source.stop();
  }
}

function listTimeout(server: string, seconds: number): KproxyError {
  return new KproxyError('KPROXY_E_API', `${server}: the initial lists did not complete within ${seconds}s`, {
    hint: 'check the API server address and credentials (the errors above say what failed)',
  });
}

/** One row per service port: frontends, policies, and the endpoints each kind of traffic reaches. */
export function formatStateTable(state: ProxyState, defaultScheduler: string, mode: string): string {
  const ports = [...state.servicePorts.values()].sort((a, b) => a.id.localeCompare(b.id));
  const rows = ports.map((port) => [
    `${port.id}/${port.protocol}`,
    frontendsOf(port).join(' '),
    policyOf(port, mode === 'ipvs' || mode === 'userspace' ? defaultScheduler : undefined),
    endpointsOf(port),
  ]);
  const title = `node ${state.nodeName}, mode ${mode}, ${ports.length} service port(s)`;
  return `${title}\n\n${formatTable(['SERVICE PORT', 'FRONTENDS', 'POLICY', 'ENDPOINTS'], rows)}`;
}

function hostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

function frontendsOf(port: ServicePortState): string[] {
  return [
    ...port.clusterIPs.map((ip) => hostPort(ip, port.port)),
    ...(port.nodePort ? [`node:${port.nodePort}`] : []),
    ...port.externalIPs.map((ip) => `ext:${hostPort(ip, port.port)}`),
    ...port.loadBalancerIPs.map((ip) => `lb:${hostPort(ip, port.port)}`),
  ];
}

function policyOf(port: ServicePortState, scheduler: string | undefined): string {
  const parts = [`itp=${port.internalTrafficPolicy}`, `etp=${port.externalTrafficPolicy}`];
  if (port.sessionAffinity.type === 'ClientIP')
    parts.push(`affinity=ClientIP/${port.sessionAffinity.timeoutSeconds}s`);
  if (port.topologyMode) parts.push(`topology=${port.topologyMode}`);
  const chosenScheduler = port.scheduler ?? scheduler;
  if (chosenScheduler) parts.push(`sched=${chosenScheduler}`);
  const flags = chosenScheduler ? effectiveSchedulerFlags(chosenScheduler, port.schedulerFlags) : [];
  if (flags.length > 0) parts.push(`flags=${flags.join(',')}`);
  return parts.join(' ');
}

function describeEndpoints(endpoints: readonly Endpoint[]): string {
  if (endpoints.length === 0) return '(none)';
  return endpoints
    .map((e) => `${endpointAddress(e)}${e.isLocal ? '*' : ''}${e.terminating ? '(terminating)' : ''}`)
    .join(',');
}

function endpointsOf(port: ServicePortState): string {
  if (!port.hasAnyEndpoints) return '(no endpoints: REJECT)';
  const cluster = describeEndpoints(port.clusterEndpoints);
  const external = describeEndpoints(port.externalEndpoints);
  return cluster === external ? cluster : `cluster: ${cluster}  external: ${external}`;
}

function stateAsJson(state: ProxyState): unknown {
  return { nodeName: state.nodeName, servicePorts: [...state.servicePorts.values()] };
}
