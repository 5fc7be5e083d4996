/**
 * Decodes and validates `discovery.k8s.io/v1.EndpointSlice` and `v1.Node` objects: every field the
 * proxy reads, with the API server's rules.
 */
import { type DecodeResult, finish, notAnObject, readMetadata } from './decode-metadata.js';
import { FieldReader, isRecord, type UnknownRecord } from './field-reader.js';
import { type EndpointSliceObject, type NodeObject, SERVICE_NAME_LABEL, ZONE_LABEL } from './k8s-objects.js';
import {
  type Check,
  isDns1035Label,
  isDns1123Label,
  isDns1123Subdomain,
  isIPv4Address,
  isIPv6Address,
  isLabelValue,
  isPortNumber,
} from './validation.js';

type SliceEndpoint = NonNullable<EndpointSliceObject['endpoints']>[number];
type SlicePort = NonNullable<EndpointSliceObject['ports']>[number];

const ADDRESS_RULES: Record<EndpointSliceObject['addressType'], Check> = {
  IPv4: isIPv4Address,
  IPv6: isIPv6Address,
  FQDN: isDns1123Subdomain,
};

export function decodeEndpointSlice(raw: unknown): DecodeResult<EndpointSliceObject> {
  const reader = new FieldReader();
  if (!isRecord(raw)) return notAnObject();
  const metadata = readMetadata(reader, raw, isDns1123Subdomain, true);
  const serviceLabel = `metadata.labels[${SERVICE_NAME_LABEL}]`;
  if (metadata?.labels?.[SERVICE_NAME_LABEL] === undefined) reader.required(serviceLabel);
  else reader.string(metadata.labels, SERVICE_NAME_LABEL, serviceLabel, isDns1035Label);
  const addressType = reader.oneOf(raw, 'addressType', 'addressType', ['IPv4', 'IPv6', 'FQDN']);
  if (addressType === undefined && raw.addressType === undefined) reader.required('addressType');
  const endpoints = reader
    .list(raw, 'endpoints', 'endpoints', 1000)
    .flatMap((entry, i) =>
      readEndpoint(reader, entry, `endpoints[${i}]`, ADDRESS_RULES[addressType ?? 'IPv4']),
    );
  const ports = reader
    .list(raw, 'ports', 'ports', 100)
    .flatMap((entry, i) => readPort(reader, entry, `ports[${i}]`));
  const slice: EndpointSliceObject = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: metadata ?? { name: '' },
    addressType: addressType ?? 'IPv4',
    endpoints,
    ports,
  };
  return finish(reader, metadata ? slice : undefined);
}

function readEndpoint(
  reader: FieldReader,
  entry: unknown,
  path: string,
  addressRule: Check,
): SliceEndpoint[] {
  if (!isRecord(entry)) {
    reader.invalid(path, entry, 'must be an object');
    return [];
  }
  const addresses = reader.strings(entry, 'addresses', `${path}.addresses`, addressRule, 100);
  if (addresses.length === 0 && reader.list(entry, 'addresses', `${path}.addresses`, 100).length === 0) {
    reader.required(`${path}.addresses`);
  }
  const conditions = reader.record(entry, 'conditions', `${path}.conditions`) ?? {};
  const hints = reader.record(entry, 'hints', `${path}.hints`);
  const targetRef = reader.record(entry, 'targetRef', `${path}.targetRef`);
  // Only the fields present are set: a cluster's worth of endpoints stays small in memory.
  const endpoint: SliceEndpoint = {
    addresses,
    conditions: {
      ready: reader.boolean(conditions, 'ready', `${path}.conditions.ready`),
      serving: reader.boolean(conditions, 'serving', `${path}.conditions.serving`),
      terminating: reader.boolean(conditions, 'terminating', `${path}.conditions.terminating`),
    },
    nodeName: reader.string(entry, 'nodeName', `${path}.nodeName`, isDns1123Subdomain),
  };
  if (entry.zone !== undefined) endpoint.zone = reader.string(entry, 'zone', `${path}.zone`, isLabelValue);
  if (entry.hostname !== undefined) {
    endpoint.hostname = reader.string(entry, 'hostname', `${path}.hostname`, isDns1123Label);
  }
  if (hints) {
    endpoint.hints = {
      forZones: readHintNames(reader, hints, 'forZones', `${path}.hints.forZones`, isLabelValue),
      forNodes: readHintNames(reader, hints, 'forNodes', `${path}.hints.forNodes`, isDns1123Subdomain),
    };
  }
  if (targetRef) {
    endpoint.targetRef = {
      kind: reader.string(targetRef, 'kind', `${path}.targetRef.kind`, (v) =>
        /^[A-Za-z]{1,63}$/.test(v) ? undefined : 'must be a kind such as Pod',
      ),
      name: reader.string(targetRef, 'name', `${path}.targetRef.name`, isDns1123Subdomain),
      namespace: reader.string(targetRef, 'namespace', `${path}.targetRef.namespace`, isDns1123Label),
    };
  }
  return [endpoint];
}

function readHintNames(reader: FieldReader, hints: UnknownRecord, key: string, path: string, rule: Check) {
  return reader.list(hints, key, path, 8).flatMap((hint, i) => {
    const name = isRecord(hint) ? reader.string(hint, 'name', `${path}[${i}].name`, rule) : undefined;
    if (!isRecord(hint)) reader.invalid(`${path}[${i}]`, hint, 'must be an object');
    return name === undefined ? [] : [{ name }];
  });
}

function readPort(reader: FieldReader, entry: unknown, path: string): SlicePort[] {
  if (!isRecord(entry)) {
    reader.invalid(path, entry, 'must be an object');
    return [];
  }
  return [
    {
      name: reader.string(entry, 'name', `${path}.name`, (v) => (v === '' ? undefined : isDns1123Label(v))),
      protocol: reader.oneOf(entry, 'protocol', `${path}.protocol`, ['TCP', 'UDP', 'SCTP']),
      port: reader.integer(entry, 'port', `${path}.port`, isPortNumber),
    },
  ];
}

export function decodeNode(raw: unknown): DecodeResult<NodeObject> {
  const reader = new FieldReader();
  if (!isRecord(raw)) return notAnObject();
  const metadata = readMetadata(reader, raw, isDns1123Subdomain, false);
  const zone = metadata?.labels?.[ZONE_LABEL];
  if (metadata?.labels && zone !== undefined) {
    reader.string(metadata.labels, ZONE_LABEL, `metadata.labels[${ZONE_LABEL}]`, isLabelValue);
  }
  if (!metadata) return finish<NodeObject>(reader, undefined);
  // Whether the node is going away, for the proxy's /healthz (kube-proxy's node eligibility).
  const deletionTimestamp = timestampText(
    isRecord(raw.metadata) ? raw.metadata.deletionTimestamp : undefined,
  );
  const taints = isRecord(raw.spec) && Array.isArray(raw.spec.taints) ? raw.spec.taints.flatMap(taintOf) : [];
  return finish(reader, {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: deletionTimestamp ? { ...metadata, deletionTimestamp } : metadata,
    ...(taints.length > 0 ? { spec: { taints } } : {}),
  });
}

/** The API client gives a Date, YAML and watch events a string. */
function timestampText(value: unknown): string | undefined {
  if (value instanceof Date) return value.toISOString();
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function taintOf(entry: unknown): { key: string; effect?: string }[] {
  if (!isRecord(entry) || typeof entry.key !== 'string') return [];
  return [{ key: entry.key, ...(typeof entry.effect === 'string' ? { effect: entry.effect } : {}) }];
}
