import type { RawTree } from './decode-fields.js';
import { appendPortIfNeeded, ipFamily } from './net-text.js';
import type { ProxyMode } from './proxy-mode.js';
import { RawTreeReader } from './raw-tree.js';
import type { KubeProxyConfiguration, LocalMode, LoggingFormat, OutputRoutingOptions } from './types.js';

const second = 1000;
const minute = 60 * second;
const hour = 60 * minute;

/** kube-proxy's well-known ports (pkg/cluster/ports): healthz 10256, metrics 10249. */
export const healthzPort = 10256;
export const metricsPort = 10249;

/** kube-proxy's OOM score adjustment (pkg/kubelet/qos). */
const kubeProxyOomScoreAdj = -999;

/**
 * Applies kube-proxy's defaults (SetDefaults_KubeProxyConfiguration, plus the platform defaults of
 * its Linux server) to a decoded tree. As in kube-proxy, a plain field's zero value (`0s`, `""`, 0)
 * means "use the default", while a field kube-proxy keeps as a pointer (masqueradeBit, oomScoreAdj,
 * conntrack.maxPerCore/min/tcp*Timeout, localhostNodePorts) only takes its default when absent or null.
 * Enumerations are not checked here; validation does that before anyone sees the result.
 */
export function applyKubeProxyDefaults(tree: RawTree): KubeProxyConfiguration {
  const raw = new RawTreeReader(tree);
  const bindAddress = raw.string('bindAddress') || '0.0.0.0';
  const bindIsIPv4 = ipFamily(bindAddress) === 4;
  const mode = (raw.string('mode') || 'iptables') as ProxyMode;
  return {
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    featureGates: { ...raw.boolMap('featureGates') },
    clientConnection: {
      kubeconfig: raw.string('clientConnection.kubeconfig'),
      acceptContentTypes: raw.string('clientConnection.acceptContentTypes'),
      contentType: raw.string('clientConnection.contentType') || 'application/vnd.kubernetes.protobuf',
      qps: raw.number('clientConnection.qps') || 5,
      burst: raw.number('clientConnection.burst') || 10,
    },
    logging: {
      format: (raw.string('logging.format') || 'text') as LoggingFormat,
      flushFrequency: raw.number('logging.flushFrequency') || 5 * second,
      verbosity: raw.number('logging.verbosity') ?? 0,
      vmodule: raw.trees('logging.vmodule').map((item) => ({
        filePattern: item.string('filePattern'),
        verbosity: item.number('verbosity') ?? 0,
      })),
      options: {
        text: outputRouting(raw, 'logging.options.text'),
        json: outputRouting(raw, 'logging.options.json'),
      },
    },
    hostnameOverride: raw.string('hostnameOverride'),
    bindAddress,
    healthzBindAddress: addressWithPort(
      raw.string('healthzBindAddress'),
      bindIsIPv4 ? '0.0.0.0' : '[::]',
      healthzPort,
    ),
    metricsBindAddress: addressWithPort(
      raw.string('metricsBindAddress'),
      bindIsIPv4 ? '127.0.0.1' : '[::1]',
      metricsPort,
    ),
    bindAddressHardFail: raw.bool('bindAddressHardFail') ?? false,
    enableProfiling: raw.bool('enableProfiling') ?? false,
    showHiddenMetricsForVersion: raw.string('showHiddenMetricsForVersion'),
    mode,
    iptables: {
      masqueradeBit: raw.number('iptables.masqueradeBit') ?? 14,
      masqueradeAll: raw.bool('iptables.masqueradeAll') ?? false,
      localhostNodePorts: raw.bool('iptables.localhostNodePorts') ?? true,
      snatNodeInternalIP: raw.bool('iptables.snatNodeInternalIP') ?? false,
      syncPeriod: raw.number('iptables.syncPeriod') || 30 * second,
      minSyncPeriod: raw.number('iptables.minSyncPeriod') || 1 * second,
    },
    ipvs: {
      syncPeriod: raw.number('ipvs.syncPeriod') || 30 * second,
      minSyncPeriod: raw.number('ipvs.minSyncPeriod') ?? 0,
      scheduler: raw.string('ipvs.scheduler') || 'rr',
      excludeCIDRs: raw.strings('ipvs.excludeCIDRs'),
      strictARP: raw.bool('ipvs.strictARP') ?? false,
      tcpTimeout: raw.number('ipvs.tcpTimeout') ?? 0,
      tcpFinTimeout: raw.number('ipvs.tcpFinTimeout') ?? 0,
      udpTimeout: raw.number('ipvs.udpTimeout') ?? 0,
    },
    nftables: {
      masqueradeBit: raw.number('nftables.masqueradeBit') ?? 14,
      masqueradeAll: raw.bool('nftables.masqueradeAll') ?? false,
      syncPeriod: raw.number('nftables.syncPeriod') || 30 * second,
      minSyncPeriod: raw.number('nftables.minSyncPeriod') || 1 * second,
    },
    winkernel: {
      networkName: raw.string('winkernel.networkName'),
      sourceVip: raw.string('winkernel.sourceVip'),
      enableDSR: raw.bool('winkernel.enableDSR') ?? false,
      rootHnsEndpointName: raw.string('winkernel.rootHnsEndpointName'),
      forwardHealthCheckVip: raw.bool('winkernel.forwardHealthCheckVip') ?? false,
    },
    detectLocalMode: (raw.string('detectLocalMode') || 'ClusterCIDR') as LocalMode,
    detectLocal: {
      bridgeInterface: raw.string('detectLocal.bridgeInterface'),
      interfaceNamePrefix: raw.string('detectLocal.interfaceNamePrefix'),
    },
    clusterCIDR: raw.string('clusterCIDR'),
    nodePortAddresses: defaultNodePortAddresses(raw.strings('nodePortAddresses'), mode),
    oomScoreAdj: raw.number('oomScoreAdj') ?? kubeProxyOomScoreAdj,
    conntrack: {
      maxPerCore: raw.number('conntrack.maxPerCore') ?? 32 * 1024,
      min: raw.number('conntrack.min') ?? 128 * 1024,
      tcpEstablishedTimeout: raw.number('conntrack.tcpEstablishedTimeout') ?? 24 * hour,
      tcpCloseWaitTimeout: raw.number('conntrack.tcpCloseWaitTimeout') ?? 1 * hour,
      tcpBeLiberal: raw.bool('conntrack.tcpBeLiberal') ?? false,
      udpTimeout: raw.number('conntrack.udpTimeout') ?? 0,
      udpStreamTimeout: raw.number('conntrack.udpStreamTimeout') ?? 0,
    },
    configSyncPeriod: raw.number('configSyncPeriod') || 15 * minute,
    portRange: raw.string('portRange'),
    windowsRunAsService: raw.bool('windowsRunAsService') ?? false,
  };
}

/** kube-proxy appends the default port to a bare IP, and picks an all-addresses default for "". */
function addressWithPort(address: string, defaultHost: string, port: number): string {
  return address === '' ? `${defaultHost}:${port}` : appendPortIfNeeded(address, port);
}

/** Unset means every node address, except in nftables mode where kube-proxy uses the primary one. */
function defaultNodePortAddresses(addresses: readonly string[], mode: ProxyMode): readonly string[] {
  return addresses.length === 0 && mode === 'nftables' ? ['primary'] : addresses;
}

function outputRouting(raw: RawTreeReader, path: string): OutputRoutingOptions {
  return {
    splitStream: raw.bool(`${path}.splitStream`) ?? false,
    infoBufferSize: raw.string(`${path}.infoBufferSize`) || '0',
  };
}
