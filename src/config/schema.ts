/**
 * The shape of KubeProxyConfiguration v1alpha1 (kubeproxy.config.k8s.io), field by field, as kube-proxy
 * declares it. The strict decoder walks a YAML document against this tree: a key not listed here is
 * an error, and every value must have its field's type.
 */

export type LeafKind =
  | 'string'
  | 'bool'
  | 'int32'
  | 'uint32'
  | 'float'
  | 'duration'
  /** logging.flushFrequency: a Go duration, or an integer number of nanoseconds. */
  | 'durationOrNanos'
  /** A resource quantity such as 0, 64Ki or 1Mi. */
  | 'quantity'
  | 'stringList'
  | 'boolMap';

export interface LeafSpec {
  readonly kind: LeafKind;
}

export interface StructSpec {
  readonly kind: 'struct';
  readonly fields: Readonly<Record<string, FieldSpec>>;
}

export interface StructListSpec {
  readonly kind: 'structList';
  readonly item: StructSpec;
}

export type FieldSpec = LeafSpec | StructSpec | StructListSpec;

const leaf = (kind: LeafKind): LeafSpec => ({ kind });
const struct = (fields: Record<string, FieldSpec>): StructSpec => ({ kind: 'struct', fields });

const text = leaf('string');
const bool = leaf('bool');
const int32 = leaf('int32');
const duration = leaf('duration');

const outputRouting = struct({ splitStream: bool, infoBufferSize: leaf('quantity') });

export const kubeProxyConfigurationSpec: StructSpec = struct({
  apiVersion: text,
  kind: text,
  featureGates: leaf('boolMap'),
  clientConnection: struct({
    kubeconfig: text,
    acceptContentTypes: text,
    contentType: text,
    qps: leaf('float'),
    burst: int32,
  }),
  logging: struct({
    format: text,
    flushFrequency: leaf('durationOrNanos'),
    verbosity: leaf('uint32'),
    vmodule: { kind: 'structList', item: struct({ filePattern: text, verbosity: leaf('uint32') }) },
    options: struct({ text: outputRouting, json: outputRouting }),
  }),
  hostnameOverride: text,
  bindAddress: text,
  healthzBindAddress: text,
  metricsBindAddress: text,
  bindAddressHardFail: bool,
  enableProfiling: bool,
  showHiddenMetricsForVersion: text,
  mode: text,
  iptables: struct({
    masqueradeBit: int32,
    masqueradeAll: bool,
    localhostNodePorts: bool,
    snatNodeInternalIP: bool,
    syncPeriod: duration,
    minSyncPeriod: duration,
  }),
  ipvs: struct({
    syncPeriod: duration,
    minSyncPeriod: duration,
    scheduler: text,
    excludeCIDRs: leaf('stringList'),
    strictARP: bool,
    tcpTimeout: duration,
    tcpFinTimeout: duration,
    udpTimeout: duration,
  }),
  nftables: struct({
    masqueradeBit: int32,
    masqueradeAll: bool,
    syncPeriod: duration,
    minSyncPeriod: duration,
  }),
  winkernel: struct({
    networkName: text,
    sourceVip: text,
    enableDSR: bool,
    rootHnsEndpointName: text,
    forwardHealthCheckVip: bool,
  }),
  detectLocalMode: text,
  detectLocal: struct({ bridgeInterface: text, interfaceNamePrefix: text }),
  clusterCIDR: text,
  nodePortAddresses: leaf('stringList'),
  oomScoreAdj: int32,
  conntrack: struct({
    maxPerCore: int32,
    min: int32,
    tcpEstablishedTimeout: duration,
    tcpCloseWaitTimeout: duration,
    tcpBeLiberal: bool,
    udpTimeout: duration,
    udpStreamTimeout: duration,
  }),
  configSyncPeriod: duration,
  portRange: text,
  windowsRunAsService: bool,
});

/** Fields older kube-proxy releases had; named in the error so a user knows why they are refused. */
export const removedFields: ReadonlyMap<string, string> = new Map([
  ['udpIdleTimeout', 'it belonged to the removed userspace proxier; delete it'],
  ['resourceContainer', 'kube-proxy no longer moves itself into a container; delete it'],
  ['conntrack.max', 'use conntrack.maxPerCore and conntrack.min instead'],
  ['ipvs.masqueradeAll', 'use iptables.masqueradeAll (it applies to ipvs mode too)'],
]);

/** The spec of a dotted field path such as `iptables.syncPeriod`, or undefined. */
export function fieldSpecAt(path: string): FieldSpec | undefined {
  let spec: FieldSpec | undefined = kubeProxyConfigurationSpec;
  for (const name of path.split('.')) {
    spec = spec?.kind === 'struct' ? spec.fields[name] : undefined;
  }
  return spec;
}
