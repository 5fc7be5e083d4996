import { decodeEndpointSlice, decodeNode } from './decode-endpoint-slice.js';
import { type DecodeResult, notAnObject } from './decode-metadata.js';
import { decodeService } from './decode-service.js';
import { isRecord } from './field-reader.js';
import type { EndpointSliceObject, NodeObject, ServiceObject } from './k8s-objects.js';

export type ProxiedKind = 'Service' | 'EndpointSlice' | 'Node';
export type ProxiedObject = ServiceObject | EndpointSliceObject | NodeObject;

const DECODERS: Record<ProxiedKind, (raw: unknown) => DecodeResult<ProxiedObject>> = {
  Service: decodeService,
  EndpointSlice: decodeEndpointSlice,
  Node: decodeNode,
};

/** The kind of a raw object if the proxy reads it (Service, EndpointSlice, Node), else undefined. */
export function proxiedKind(raw: unknown): ProxiedKind | undefined {
  if (!isRecord(raw) || typeof raw.kind !== 'string') return undefined;
  return Object.hasOwn(DECODERS, raw.kind) ? (raw.kind as ProxiedKind) : undefined;
}

export function decodeObject(kind: ProxiedKind, raw: unknown): DecodeResult<ProxiedObject> {
  return isRecord(raw) ? DECODERS[kind](raw) : notAnObject();
}

/** How a source keys an object: `namespace/name`, or the name alone for cluster-scoped Nodes. */
export function keyOf(object: ProxiedObject): string {
  return object.kind === 'Node'
    ? object.metadata.name
    : `${object.metadata.namespace ?? 'default'}/${object.metadata.name}`;
}
