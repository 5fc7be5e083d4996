import type { ProxyMode } from './proxy-mode.js';

/** A duration in milliseconds (fractions carry micro- and nanoseconds), read from Go text like `30s`. */
export type DurationMillis = number;

export const localModes = ['ClusterCIDR', 'NodeCIDR', 'BridgeInterface', 'InterfaceNamePrefix'] as const;
export type LocalMode = (typeof localModes)[number];

export const loggingFormats = ['text', 'json'] as const;
export type LoggingFormat = (typeof loggingFormats)[number];

export interface OutputRoutingOptions {
  readonly splitStream: boolean;
  /** A resource quantity, e.g. `0` or `64Ki`. */
  readonly infoBufferSize: string;
}

export interface LoggingConfiguration {
  readonly format: LoggingFormat;
  readonly flushFrequency: DurationMillis;
  readonly verbosity: number;
  readonly vmodule: readonly { readonly filePattern: string; readonly verbosity: number }[];
  readonly options: { readonly text: OutputRoutingOptions; readonly json: OutputRoutingOptions };
}

/**
 * KubeProxyConfiguration v1alpha1 with every default applied: what kproxy runs with. Field names are
 * kube-proxy's; durations are milliseconds. `mode` and `detectLocalMode` are resolved ("" becomes
 * iptables / ClusterCIDR), as is `ipvs.scheduler` ("" becomes rr).
 */
export interface KubeProxyConfiguration {
  readonly apiVersion: 'kubeproxy.config.k8s.io/v1alpha1';
  readonly kind: 'KubeProxyConfiguration';
  readonly featureGates: Readonly<Record<string, boolean>>;
  readonly clientConnection: {
    readonly kubeconfig: string;
    readonly acceptContentTypes: string;
    readonly contentType: string;
    readonly qps: number;
    readonly burst: number;
  };
  readonly logging: LoggingConfiguration;
  readonly hostnameOverride: string;
  readonly bindAddress: string;
  /** `IP:port`; kube-proxy's default 0.0.0.0:10256 ([::]:10256 when bindAddress is IPv6). */
  readonly healthzBindAddress: string;
  /** `IP:port`; kube-proxy's default 127.0.0.1:10249 ([::1]:10249 when bindAddress is IPv6). */
  readonly metricsBindAddress: string;
  readonly bindAddressHardFail: boolean;
  readonly enableProfiling: boolean;
  readonly showHiddenMetricsForVersion: string;
  readonly mode: ProxyMode;
  readonly iptables: {
    readonly masqueradeBit: number;
    readonly masqueradeAll: boolean;
    readonly localhostNodePorts: boolean;
    readonly snatNodeInternalIP: boolean;
    readonly syncPeriod: DurationMillis;
    readonly minSyncPeriod: DurationMillis;
  };
  readonly ipvs: {
    readonly syncPeriod: DurationMillis;
    readonly minSyncPeriod: DurationMillis;
    readonly scheduler: string;
    readonly excludeCIDRs: readonly string[];
    readonly strictARP: boolean;
    /** 0 keeps the system's value, as for the other two IPVS timeouts. */
    readonly tcpTimeout: DurationMillis;
    readonly tcpFinTimeout: DurationMillis;
    readonly udpTimeout: DurationMillis;
  };
  readonly nftables: {
    readonly masqueradeBit: number;
    readonly masqueradeAll: boolean;
    readonly syncPeriod: DurationMillis;
    readonly minSyncPeriod: DurationMillis;
  };
  /** Windows (HNS) settings: accepted so a shared ConfigMap loads, ignored on Linux. */
  readonly winkernel: {
    readonly networkName: string;
    readonly sourceVip: string;
    readonly enableDSR: boolean;
    readonly rootHnsEndpointName: string;
    readonly forwardHealthCheckVip: boolean;
  };
  readonly detectLocalMode: LocalMode;
  readonly detectLocal: { readonly bridgeInterface: string; readonly interfaceNamePrefix: string };
  /** Comma-separated, at most one CIDR per IP family; "" when unset. */
  readonly clusterCIDR: string;
  /** CIDRs, or `["primary"]`; empty means every node address (nftables mode resolves empty to primary). */
  readonly nodePortAddresses: readonly string[];
  readonly oomScoreAdj: number;
  readonly conntrack: {
    /** 0 leaves the kernel's limit as it is (and ignores min). */
    readonly maxPerCore: number;
    readonly min: number;
    /** 0 leaves the kernel's value as it is, as for every conntrack timeout. */
    readonly tcpEstablishedTimeout: DurationMillis;
    readonly tcpCloseWaitTimeout: DurationMillis;
    readonly tcpBeLiberal: boolean;
    readonly udpTimeout: DurationMillis;
    readonly udpStreamTimeout: DurationMillis;
  };
  readonly configSyncPeriod: DurationMillis;
  /** Unused since kube-proxy dropped its userspace proxier; kept so old files load. */
  readonly portRange: string;
  readonly windowsRunAsService: boolean;
}
