/**
 * Decodes and validates a `v1.Service` as the API server would for every field the proxy reads.
 * The result is a clean ServiceObject holding only those fields, or the list of field errors.
 */
import { type DecodeResult, finish, notAnObject, readMetadata } from './decode-metadata.js';
import { FieldReader, isRecord, type UnknownRecord } from './field-reader.js';
import type { ServiceObject, ServicePortSpec } from './k8s-objects.js';
import { checkSchedulerAnnotations } from './scheduler-annotations.js';
import {
  ipFamilyOf,
  isCIDR,
  isDns1035Label,
  isDns1123Label,
  isDns1123Subdomain,
  isIanaServiceName,
  isIPAddress,
  isPortNumber,
} from './validation.js';

const PROTOCOLS = ['TCP', 'UDP', 'SCTP'] as const;
const POLICIES = ['Cluster', 'Local'] as const;
const MAX_AFFINITY_TIMEOUT = 86400;

export function decodeService(raw: unknown): DecodeResult<ServiceObject> {
  const reader = new FieldReader();
  if (!isRecord(raw)) return notAnObject();
  const metadata = readMetadata(reader, raw, isDns1035Label, true);
  checkSchedulerAnnotations(reader, metadata?.annotations);
  const spec = reader.record(raw, 'spec', 'spec') ?? {};
  const type = reader.oneOf(spec, 'type', 'spec.type', [
    'ClusterIP',
    'NodePort',
    'LoadBalancer',
    'ExternalName',
  ]);
  const clusterIPs = readClusterIPs(reader, spec);
  const affinityConfig = reader.record(spec, 'sessionAffinityConfig', 'spec.sessionAffinityConfig') ?? {};
  const clientIP = reader.record(affinityConfig, 'clientIP', 'spec.sessionAffinityConfig.clientIP') ?? {};
  const timeoutSeconds = reader.integer(
    clientIP,
    'timeoutSeconds',
    'spec.sessionAffinityConfig.clientIP.timeoutSeconds',
    (n) =>
      n >= 1 && n <= MAX_AFFINITY_TIMEOUT
        ? undefined
        : `must be between 1 and ${MAX_AFFINITY_TIMEOUT}, inclusive`,
  );
  const service: ServiceObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadata ?? { name: '' },
    spec: {
      type,
      clusterIP: clusterIPs[0],
      clusterIPs,
      ports: readPorts(reader, spec),
      externalIPs: reader.strings(spec, 'externalIPs', 'spec.externalIPs', isIPAddress),
      // kube-proxy trims blanks around source ranges before parsing them.
      loadBalancerSourceRanges: reader.strings(
        trimmedRanges(spec),
        'loadBalancerSourceRanges',
        'spec.loadBalancerSourceRanges',
        isCIDR,
      ),
      sessionAffinity: reader.oneOf(spec, 'sessionAffinity', 'spec.sessionAffinity', ['None', 'ClientIP']),
      sessionAffinityConfig: timeoutSeconds === undefined ? undefined : { clientIP: { timeoutSeconds } },
      externalTrafficPolicy: reader.oneOf(
        spec,
        'externalTrafficPolicy',
        'spec.externalTrafficPolicy',
        POLICIES,
      ),
      internalTrafficPolicy: reader.oneOf(
        spec,
        'internalTrafficPolicy',
        'spec.internalTrafficPolicy',
        POLICIES,
      ),
      healthCheckNodePort: reader.integer(
        spec,
        'healthCheckNodePort',
        'spec.healthCheckNodePort',
        isPortNumber,
      ),
      trafficDistribution: reader.oneOf(spec, 'trafficDistribution', 'spec.trafficDistribution', [
        'PreferClose',
        'PreferSameZone',
        'PreferSameNode',
      ]),
      ipFamilies: readIPFamilies(reader, spec),
    },
    status: { loadBalancer: { ingress: readIngress(reader, raw) } },
  };
  return finish(reader, metadata ? service : undefined);
}

function trimmedRanges(spec: UnknownRecord): UnknownRecord {
  const ranges = spec.loadBalancerSourceRanges;
  if (!Array.isArray(ranges)) return spec;
  return { loadBalancerSourceRanges: ranges.map((r) => (typeof r === 'string' ? r.trim() : r)) };
}

function readClusterIPs(reader: FieldReader, spec: UnknownRecord): string[] {
  const notNone = (value: string) => (value === 'None' ? undefined : isIPAddress(value));
  const single = reader.string(spec, 'clusterIP', 'spec.clusterIP', (v) =>
    v === '' ? undefined : notNone(v),
  );
  const list = reader.strings(spec, 'clusterIPs', 'spec.clusterIPs', notNone, 2);
  if (list.length === 0) return single ? [single] : [];
  if (single && single !== list[0]) {
    reader.invalid('spec.clusterIPs[0]', list[0], 'must match spec.clusterIP');
  }
  if (
    list.length === 2 &&
    (list.includes('None') || ipFamilyOf(list[0] ?? '') === ipFamilyOf(list[1] ?? ''))
  ) {
    reader.invalid('spec.clusterIPs', list, 'may hold at most one address of each IP family');
  }
  return list;
}

function readIPFamilies(reader: FieldReader, spec: UnknownRecord): ('IPv4' | 'IPv6')[] | undefined {
  const families = reader.list(spec, 'ipFamilies', 'spec.ipFamilies', 2);
  const result = families.flatMap((family, i) => {
    const value = reader.oneOf({ family }, 'family', `spec.ipFamilies[${i}]`, ['IPv4', 'IPv6']);
    return value ? [value] : [];
  });
  return result.length > 0 ? result : undefined;
}

function readPorts(reader: FieldReader, spec: UnknownRecord): ServicePortSpec[] {
  const rawPorts = reader.list(spec, 'ports', 'spec.ports', 1000);
  const ports: ServicePortSpec[] = [];
  const seenNames = new Set<string>();
  const seenPorts = new Set<string>();
  for (const [i, rawPort] of rawPorts.entries()) {
    const path = `spec.ports[${i}]`;
    if (!isRecord(rawPort)) {
      reader.invalid(path, rawPort, 'must be an object');
      continue;
    }
    const name = reader.string(rawPort, 'name', `${path}.name`, (v) =>
      v === '' ? undefined : isDns1123Label(v),
    );
    if (rawPorts.length > 1 && (rawPort.name === undefined || rawPort.name === ''))
      reader.required(`${path}.name`);
    if (name && seenNames.has(name)) reader.invalid(`${path}.name`, name, 'Duplicate value');
    const protocol = reader.oneOf(rawPort, 'protocol', `${path}.protocol`, PROTOCOLS) ?? 'TCP';
    const port = reader.integer(rawPort, 'port', `${path}.port`, isPortNumber);
    if (rawPort.port === undefined) reader.required(`${path}.port`);
    if (port !== undefined && seenPorts.has(`${port}/${protocol}`)) {
      reader.invalid(`${path}`, `${port}/${protocol}`, 'Duplicate value');
    }
    const targetPort =
      typeof rawPort.targetPort === 'string'
        ? reader.string(rawPort, 'targetPort', `${path}.targetPort`, isIanaServiceName)
        : reader.integer(rawPort, 'targetPort', `${path}.targetPort`, isPortNumber);
    const nodePort = reader.integer(rawPort, 'nodePort', `${path}.nodePort`, isPortNumber);
    if (name) seenNames.add(name);
    if (port === undefined) continue;
    seenPorts.add(`${port}/${protocol}`);
    ports.push({ name, protocol, port, targetPort, nodePort });
  }
  return ports;
}

function readIngress(reader: FieldReader, raw: UnknownRecord) {
  const status = reader.record(raw, 'status', 'status') ?? {};
  const loadBalancer = reader.record(status, 'loadBalancer', 'status.loadBalancer') ?? {};
  return reader.list(loadBalancer, 'ingress', 'status.loadBalancer.ingress', 100).flatMap((entry, i) => {
    const path = `status.loadBalancer.ingress[${i}]`;
    if (!isRecord(entry)) {
      reader.invalid(path, entry, 'must be an object');
      return [];
    }
    return [
      {
        ip: reader.string(entry, 'ip', `${path}.ip`, isIPAddress),
        hostname: reader.string(entry, 'hostname', `${path}.hostname`, isDns1123Subdomain),
        ipMode: reader.oneOf(entry, 'ipMode', `${path}.ipMode`, ['VIP', 'Proxy']),
      },
    ];
  });
}
