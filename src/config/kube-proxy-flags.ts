import { type Command, Option } from 'commander';
import { knownSchedulerNames } from '../schedulers/registry.js';
import type { ConfigProblem, FieldLocations } from './config-error.js';
import type { RawTree } from './decode-fields.js';
import { type FlagKind, parseFlagValue } from './flag-values.js';
import { setRawValue } from './raw-tree.js';

interface ConfigFlag {
  readonly option: Option;
  readonly kind: FlagKind;
  /** The configuration fields the flag sets (kube-proxy's --masquerade-all sets two sections). */
  readonly paths: readonly string[];
}

const argumentNames: Record<FlagKind, string> = {
  string: 'string',
  bool: 'bool',
  int32: 'int',
  uint32: 'int',
  float: 'number',
  duration: 'duration',
  list: 'list',
  gates: 'A=true,B=false',
  vmodule: 'pattern=N,...',
};

function flag(name: string, kind: FlagKind, paths: readonly string[], help: string): ConfigFlag {
  const argument = kind === 'bool' ? ' [bool]' : ` <${argumentNames[kind]}>`;
  return { option: new Option(`--${name}${argument}`, help), kind, paths };
}

/** kube-proxy's flags that set configuration fields, by kube-proxy's names. */
const configFlags: readonly ConfigFlag[] = [
  flag(
    'bind-address',
    'string',
    ['bindAddress'],
    "override the node's primary IP (kube-proxy binds no socket to it)",
  ),
  flag('bind-address-hard-fail', 'bool', ['bindAddressHardFail'], 'treat failure to bind a port as fatal'),
  flag('cluster-cidr', 'string', ['clusterCIDR'], 'the pods CIDR range, one per IP family (comma-separated)'),
  flag(
    'config-sync-period',
    'duration',
    ['configSyncPeriod'],
    'how often configuration from the API server is refreshed',
  ),
  flag(
    'conntrack-max-per-core',
    'int32',
    ['conntrack.maxPerCore'],
    'NAT connections to track per CPU core (0 leaves the limit)',
  ),
  flag('conntrack-min', 'int32', ['conntrack.min'], 'minimum conntrack records to allocate'),
  flag(
    'conntrack-tcp-be-liberal',
    'bool',
    ['conntrack.tcpBeLiberal'],
    'do not mark out-of-window TCP packets INVALID',
  ),
  flag(
    'conntrack-tcp-timeout-close-wait',
    'duration',
    ['conntrack.tcpCloseWaitTimeout'],
    'NAT timeout for CLOSE_WAIT',
  ),
  flag(
    'conntrack-tcp-timeout-established',
    'duration',
    ['conntrack.tcpEstablishedTimeout'],
    'idle timeout for established TCP',
  ),
  flag('conntrack-udp-timeout', 'duration', ['conntrack.udpTimeout'], 'idle timeout for UNREPLIED UDP'),
  flag(
    'conntrack-udp-timeout-stream',
    'duration',
    ['conntrack.udpStreamTimeout'],
    'idle timeout for ASSURED UDP',
  ),
  flag(
    'detect-local-mode',
    'string',
    ['detectLocalMode'],
    'ClusterCIDR, NodeCIDR, BridgeInterface or InterfaceNamePrefix',
  ),
  flag('feature-gates', 'gates', ['featureGates'], 'Name=true|false pairs, comma-separated'),
  flag(
    'healthz-bind-address',
    'string',
    ['healthzBindAddress'],
    'IP:port of the health server (default 0.0.0.0:10256)',
  ),
  flag('hostname-override', 'string', ['hostnameOverride'], 'the name of this node, if not its hostname'),
  flag(
    'iptables-localhost-nodeports',
    'bool',
    ['iptables.localhostNodePorts'],
    'allow NodePorts on localhost (iptables, IPv4)',
  ),
  flag(
    'iptables-masquerade-bit',
    'int32',
    ['iptables.masqueradeBit', 'nftables.masqueradeBit'],
    'fwmark bit for SNAT, 0–31',
  ),
  flag(
    'iptables-min-sync-period',
    'duration',
    ['iptables.minSyncPeriod'],
    'minimum time between iptables syncs',
  ),
  flag('iptables-sync-period', 'duration', ['iptables.syncPeriod'], 'maximum time between iptables syncs'),
  flag(
    'ipvs-exclude-cidrs',
    'list',
    ['ipvs.excludeCIDRs'],
    'CIDRs the IPVS proxier must not touch when cleaning up',
  ),
  flag('ipvs-min-sync-period', 'duration', ['ipvs.minSyncPeriod'], 'minimum time between IPVS syncs'),
  flag(
    'ipvs-scheduler',
    'string',
    ['ipvs.scheduler'],
    `the IPVS scheduler: ${knownSchedulerNames().join(', ')} (default rr)`,
  ),
  flag('ipvs-strict-arp', 'bool', ['ipvs.strictARP'], 'set arp_ignore=1 and arp_announce=2'),
  flag('ipvs-sync-period', 'duration', ['ipvs.syncPeriod'], 'maximum time between IPVS syncs'),
  flag(
    'ipvs-tcp-timeout',
    'duration',
    ['ipvs.tcpTimeout'],
    'idle IPVS TCP timeout (0 keeps the system value)',
  ),
  flag('ipvs-tcpfin-timeout', 'duration', ['ipvs.tcpFinTimeout'], 'IPVS TCP timeout after FIN'),
  flag('ipvs-udp-timeout', 'duration', ['ipvs.udpTimeout'], 'IPVS UDP timeout'),
  flag('kube-api-burst', 'int32', ['clientConnection.burst'], 'burst towards the API server'),
  flag(
    'kube-api-content-type',
    'string',
    ['clientConnection.contentType'],
    'content type of requests to the API server',
  ),
  flag('kube-api-qps', 'float', ['clientConnection.qps'], 'queries per second towards the API server'),
  flag(
    'kubeconfig',
    'string',
    ['clientConnection.kubeconfig'],
    'kubeconfig file with the API server and credentials',
  ),
  flag('log-flush-frequency', 'duration', ['logging.flushFrequency'], 'maximum time between log flushes'),
  flag('logging-format', 'string', ['logging.format'], 'text or json'),
  flag(
    'masquerade-all',
    'bool',
    ['iptables.masqueradeAll', 'nftables.masqueradeAll'],
    'SNAT all traffic to Service IPs',
  ),
  flag(
    'metrics-bind-address',
    'string',
    ['metricsBindAddress'],
    'IP:port of the metrics server (default 127.0.0.1:10249)',
  ),
  flag('nodeport-addresses', 'list', ['nodePortAddresses'], 'CIDRs NodePorts answer on, or primary'),
  flag('oom-score-adj', 'int32', ['oomScoreAdj'], 'oom_score_adj for this process, -1000–1000'),
  flag('pod-bridge-interface', 'string', ['detectLocal.bridgeInterface'], 'bridge whose traffic is local'),
  flag(
    'pod-interface-name-prefix',
    'string',
    ['detectLocal.interfaceNamePrefix'],
    'interface prefix whose traffic is local',
  ),
  flag('profiling', 'bool', ['enableProfiling'], 'serve /debug/pprof on the metrics server'),
  flag('proxy-mode', 'string', ['mode'], 'iptables (default), nftables, ipvs or userspace'),
  flag('proxy-port-range', 'string', ['portRange'], 'unused; accepted for old command lines'),
  flag(
    'show-hidden-metrics-for-version',
    'string',
    ['showHiddenMetricsForVersion'],
    'previous minor version, e.g. 1.30',
  ),
  flag('v', 'uint32', ['logging.verbosity'], 'log verbosity'),
  flag('vmodule', 'vmodule', ['logging.vmodule'], 'pattern=N pairs, comma-separated (text format only)'),
];

/**
 * Registers kube-proxy's flags on a command: the ones above, which override the configuration file,
 * plus --config, --write-config-to, --cleanup and --master.
 */
export function registerKubeProxyFlags(command: Command): Command {
  command
    .option('--config <file>', 'a KubeProxyConfiguration file, or the whole kube-proxy ConfigMap')
    .option('--write-config-to <file>', 'write the effective configuration to this file and exit')
    .addOption(new Option('--cleanup [bool]', 'remove every rule kproxy or kube-proxy created, then exit'))
    .option('--master <url>', 'the API server address (overrides the kubeconfig)');
  for (const { option } of configFlags) command.addOption(option);
  return command;
}

/** Lays the flags the user gave over a decoded file; problems name the flag. */
export function applyFlagOverrides(
  tree: RawTree,
  flags: Readonly<Record<string, unknown>>,
  locations: FieldLocations,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const { option, kind, paths } of configFlags) {
    const given = flags[option.attributeName()];
    if (given === undefined) continue;
    const where = `flag ${option.long}`;
    const parsed = parseFlagValue(given, kind);
    if ('error' in parsed) {
      problems.push({ where, path: paths[0] ?? '', message: parsed.error });
      continue;
    }
    for (const path of paths) {
      setRawValue(tree, path, parsed.value);
      locations.set(path, where);
    }
  }
  return problems;
}
