import type { KproxyError } from '../errors.js';
import type { EndpointSliceObject, NodeObject, ServiceObject } from '../model/k8s-objects.js';

/**
 * Where a source delivers what it sees. Keys are `namespace/name` (Nodes: their name); an
 * undefined object is a deletion. Sources only report; control decides what to do.
 */
export interface SourceHandler {
  service(key: string, service: ServiceObject | undefined): void;
  endpointSlice(key: string, slice: EndpointSliceObject | undefined): void;
  node(name: string, node: NodeObject | undefined): void;
  /** Every initial list is complete: until then the proxy must not sync (it would drop rules). */
  synced(): void;
  /** A rejected object or a failure the source recovers from by itself; it goes on. */
  problem(error: KproxyError): void;
}

export interface ObjectSource {
  /** Describes the source for logs: the manifest path or the API server's URL. */
  readonly description: string;
  start(handler: SourceHandler): Promise<void>;
  stop(): Promise<void>;
}

export type KubeObject = ServiceObject | EndpointSliceObject | NodeObject;

/** Sends one object (or its deletion) to the handler method of its kind. */
export function deliver(
  handler: SourceHandler,
  kind: KubeObject['kind'],
  key: string,
  object: KubeObject | undefined,
) {
  if (kind === 'Service') handler.service(key, object as ServiceObject | undefined);
  else if (kind === 'EndpointSlice') handler.endpointSlice(key, object as EndpointSliceObject | undefined);
  else handler.node(key, object as NodeObject | undefined);
}
