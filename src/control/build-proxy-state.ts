import type { EndpointSliceObject, ServiceObject } from '../model/k8s-objects.js';
import type { ProxyState } from '../model/proxy-state.js';
import { objectKey, ProxyStateBuilder } from './proxy-state-builder.js';

export interface BuildProxyStateOptions {
  readonly services: readonly ServiceObject[];
  readonly endpointSlices: readonly EndpointSliceObject[];
  readonly nodeName: string;
  /** The node's `topology.kubernetes.io/zone`, for topology hints; '' when it has none. */
  readonly zone?: string;
}

/**
 * The ProxyState for a fixed set of (validated) Services and EndpointSlices: one entry per proxied
 * Service port, with its endpoints chosen by traffic policy, topology and readiness. ExternalName,
 * headless and other proxies' Services are skipped, as kube-proxy does.
 */
export function buildProxyState(options: BuildProxyStateOptions): ProxyState {
  const builder = new ProxyStateBuilder(options.nodeName, options.zone ?? '');
  for (const service of options.services) builder.updateService(objectKey(service), service);
  for (const slice of options.endpointSlices) builder.updateEndpointSlice(objectKey(slice), slice);
  return builder.build().state;
}
