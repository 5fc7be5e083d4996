import { KproxyError } from '../errors.js';
import { schedulerDescriptor } from '../schedulers/registry.js';
import type { ConfigProblem, FieldLocations } from './config-error.js';
import { formatGoDuration } from './go-duration.js';
import { cidrFamily, ipFamily, isValidPort, splitHostPort } from './net-text.js';
import { proxyModes } from './proxy-mode.js';
import { type KubeProxyConfiguration, localModes, loggingFormats } from './types.js';

/** Records a problem at `path` unless `ok`; `related` locates a field nobody wrote (the one needing it). */
type Check = (path: string, ok: boolean, message: string, related?: string) => void;

/**
 * kube-proxy's validation rules (pkg/proxy/apis/config/validation), applied to a defaulted
 * configuration. Every broken rule becomes one problem, located where the field was written.
 */
export function validateKubeProxyConfiguration(
  config: KubeProxyConfiguration,
  locations: FieldLocations,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const check: Check = (path, ok, message, related) => {
    if (!ok) problems.push({ where: locations.whereOf(path, related), path, message });
  };
  check('mode', (proxyModes as readonly string[]).includes(config.mode), modeMessage(config.mode));
  checkSyncPeriods(check, 'iptables', config.iptables);
  checkMasqueradeBit(check, 'iptables.masqueradeBit', config.iptables.masqueradeBit);
  if (config.mode === 'ipvs') checkIpvs(check, config);
  if (config.mode === 'nftables') {
    checkSyncPeriods(check, 'nftables', config.nftables);
    checkMasqueradeBit(check, 'nftables.masqueradeBit', config.nftables.masqueradeBit);
  }
  checkScheduler(check, config.ipvs.scheduler);
  checkConntrack(check, config);
  checkAddresses(check, config);
  checkDetectLocal(check, config);
  checkLogging(check, config);
  check(
    'clientConnection.burst',
    config.clientConnection.burst >= 0,
    `must be ≥ 0, got ${config.clientConnection.burst}`,
  );
  check(
    'clientConnection.qps',
    config.clientConnection.qps >= 0,
    `must be ≥ 0, got ${config.clientConnection.qps}`,
  );
  const oom = config.oomScoreAdj;
  check('oomScoreAdj', oom >= -1000 && oom <= 1000, `must be within [-1000, 1000], got ${oom}`);
  checkPositive(check, 'configSyncPeriod', config.configSyncPeriod);
  check(
    'portRange',
    isPortRange(config.portRange),
    'must be "" or a port range such as 30000-32767 or 30000+2767',
  );
  check(
    'showHiddenMetricsForVersion',
    /^(\d+\.\d+)?$/.test(config.showHiddenMetricsForVersion),
    `must be "" or a minor version such as "1.30", got "${config.showHiddenMetricsForVersion}"`,
  );
  return problems;
}

interface SyncPeriods {
  readonly syncPeriod: number;
  readonly minSyncPeriod: number;
}

function checkSyncPeriods(check: Check, section: string, periods: SyncPeriods): void {
  checkPositive(check, `${section}.syncPeriod`, periods.syncPeriod);
  checkNotNegative(check, `${section}.minSyncPeriod`, periods.minSyncPeriod);
  check(
    `${section}.syncPeriod`,
    periods.syncPeriod <= 0 || periods.minSyncPeriod <= periods.syncPeriod,
    `must be ≥ ${section}.minSyncPeriod (${formatGoDuration(periods.minSyncPeriod)}), got ${formatGoDuration(periods.syncPeriod)}`,
  );
}

function checkMasqueradeBit(check: Check, path: string, bit: number): void {
  check(path, bit >= 0 && bit <= 31, `must be within [0, 31] (a bit of the 32-bit fwmark), got ${bit}`);
}

function checkIpvs(check: Check, config: KubeProxyConfiguration): void {
  checkSyncPeriods(check, 'ipvs', config.ipvs);
  for (const timeout of ['tcpTimeout', 'tcpFinTimeout', 'udpTimeout'] as const) {
    checkNotNegative(check, `ipvs.${timeout}`, config.ipvs[timeout]);
  }
  config.ipvs.excludeCIDRs.forEach((cidr, index) => {
    check(`ipvs.excludeCIDRs[${index}]`, cidrFamily(cidr) !== 0, `${cidrMessage(cidr)}`);
  });
}

function checkScheduler(check: Check, scheduler: string): void {
  try {
    schedulerDescriptor(scheduler);
  } catch (error) {
    if (!(error instanceof KproxyError)) throw error;
    check('ipvs.scheduler', false, `unknown IPVS scheduler "${scheduler}"; ${error.hint ?? ''}`.trim());
  }
}

function checkConntrack(check: Check, config: KubeProxyConfiguration): void {
  const { conntrack } = config;
  check(
    'conntrack.maxPerCore',
    conntrack.maxPerCore >= 0,
    `must be ≥ 0 (0 leaves the limit as it is), got ${conntrack.maxPerCore}`,
  );
  check('conntrack.min', conntrack.min >= 0, `must be ≥ 0, got ${conntrack.min}`);
  for (const timeout of [
    'tcpEstablishedTimeout',
    'tcpCloseWaitTimeout',
    'udpTimeout',
    'udpStreamTimeout',
  ] as const) {
    checkNotNegative(check, `conntrack.${timeout}`, conntrack[timeout]);
  }
}

function checkAddresses(check: Check, config: KubeProxyConfiguration): void {
  check(
    'bindAddress',
    ipFamily(config.bindAddress) !== 0,
    `must be an IP address, got "${config.bindAddress}"`,
  );
  check(
    'healthzBindAddress',
    isIpAndPort(config.healthzBindAddress),
    hostPortMessage(config.healthzBindAddress),
  );
  check(
    'metricsBindAddress',
    isIpAndPort(config.metricsBindAddress),
    hostPortMessage(config.metricsBindAddress),
  );
  checkClusterCIDR(check, config.clusterCIDR);
  const addresses = config.nodePortAddresses;
  addresses.forEach((address, index) => {
    const path = `nodePortAddresses[${index}]`;
    if (address === 'primary') {
      check(
        path,
        addresses.length === 1,
        '"primary" must be the only entry (it stands for the node\'s primary IPs)',
      );
    } else {
      check(path, cidrFamily(address) !== 0, `${cidrMessage(address)}, or the keyword "primary" alone`);
    }
  });
}

function checkClusterCIDR(check: Check, clusterCIDR: string): void {
  if (clusterCIDR === '') return;
  const cidrs = clusterCIDR.split(',');
  const families = cidrs.map(cidrFamily);
  const bad = cidrs.filter((_, index) => families[index] === 0);
  check('clusterCIDR', bad.length === 0, `${bad.map((cidr) => cidrMessage(cidr)).join('; ')}`);
  if (bad.length > 0) return;
  check(
    'clusterCIDR',
    cidrs.length === 1 || (cidrs.length === 2 && families[0] !== families[1]),
    `allows at most one CIDR per IP family (e.g. 10.100.0.0/16,fde4:8dba:82e1::/48), got "${clusterCIDR}"`,
  );
}

function checkDetectLocal(check: Check, config: KubeProxyConfiguration): void {
  const mode = config.detectLocalMode;
  check(
    'detectLocalMode',
    (localModes as readonly string[]).includes(mode),
    `must be one of ${localModes.join(', ')}, or "" (ClusterCIDR); got "${mode}"`,
  );
  if (mode === 'BridgeInterface') {
    check(
      'detectLocal.bridgeInterface',
      config.detectLocal.bridgeInterface !== '',
      'must name a bridge when detectLocalMode is BridgeInterface',
      'detectLocalMode',
    );
  }
  if (mode === 'InterfaceNamePrefix') {
    check(
      'detectLocal.interfaceNamePrefix',
      config.detectLocal.interfaceNamePrefix !== '',
      'must give an interface name prefix when detectLocalMode is InterfaceNamePrefix',
      'detectLocalMode',
    );
  }
}

function checkLogging(check: Check, config: KubeProxyConfiguration): void {
  const { format, vmodule, flushFrequency } = config.logging;
  check(
    'logging.format',
    (loggingFormats as readonly string[]).includes(format),
    `must be ${loggingFormats.join(' or ')}, got "${format}"`,
  );
  checkNotNegative(check, 'logging.flushFrequency', flushFrequency);
  check(
    'logging.vmodule',
    vmodule.length === 0 || format === 'text',
    'is only supported with logging.format text',
  );
  vmodule.forEach((item, index) => {
    check(
      `logging.vmodule[${index}].filePattern`,
      item.filePattern !== '' && !/[=,]/.test(item.filePattern),
      `must be a non-empty file pattern without "=" or ",", got "${item.filePattern}"`,
    );
  });
}

function checkPositive(check: Check, path: string, millis: number): void {
  check(path, millis > 0, `must be greater than 0, got ${formatGoDuration(millis)}`);
}

function checkNotNegative(check: Check, path: string, millis: number): void {
  check(path, millis >= 0, `must not be negative, got ${formatGoDuration(millis)}`);
}

function modeMessage(mode: string): string {
  return `must be one of ${proxyModes.join(', ')}, or "" (iptables); got "${mode}"`;
}

function isIpAndPort(address: string): boolean {
  const parts = splitHostPort(address);
  return parts !== undefined && ipFamily(parts.host) !== 0 && isValidPort(parts.port);
}

function hostPortMessage(address: string): string {
  return `must be IP:port with a port 1–65535 (e.g. 0.0.0.0:10256 or [::1]:10249), or a bare IP; got "${address}"`;
}

function cidrMessage(cidr: string): string {
  return `must be a CIDR such as 10.0.0.0/16 or fd00::/64, got "${cidr}"`;
}

/** Go's ParsePortRange: `30000-32767`, `30000+2767` or one port; "" means unset. */
function isPortRange(text: string): boolean {
  if (text === '') return true;
  const match = /^(\d{1,5})(?:([-+])(\d{1,5}))?$/.exec(text);
  if (!match) return false;
  const base = Number(match[1]);
  const other = match[3] === undefined ? 0 : Number(match[3]);
  const last = match[2] === '+' ? base + other : match[2] === '-' ? other : base;
  return base <= 65535 && last <= 65535 && last >= base;
}
