import type { KproxyError } from '../errors.js';
import type { EndpointSliceObject, NodeObject, ServiceObject } from '../model/k8s-objects.js';
import { ZONE_LABEL } from '../model/k8s-objects.js';
import type { SourceHandler } from '../sources/source.js';
import { ProxyStateBuilder, type StateUpdate } from './proxy-state-builder.js';

/**
 * A source handler that only computes state (no data plane): for `kproxy state`, tests and
 * benchmarks. It keeps the problems the source reported and whether the initial lists are in.
 */
export class StateCollector implements SourceHandler {
  readonly builder: ProxyStateBuilder;
  readonly problems: KproxyError[] = [];
  isSynced = false;
  private waiters: (() => void)[] = [];

  constructor(private readonly nodeName: string) {
    this.builder = new ProxyStateBuilder(nodeName);
  }

  service(key: string, service: ServiceObject | undefined): void {
    this.builder.updateService(key, service);
  }

  endpointSlice(key: string, slice: EndpointSliceObject | undefined): void {
    this.builder.updateEndpointSlice(key, slice);
  }

  node(name: string, node: NodeObject | undefined): void {
    if (name === this.nodeName) this.builder.setZone(node?.metadata.labels?.[ZONE_LABEL] ?? '');
  }

  synced(): void {
    this.isSynced = true;
    for (const wake of this.waiters.splice(0)) wake();
  }

  problem(error: KproxyError): void {
    this.problems.push(error);
  }

  /** Resolves once the source has delivered its initial lists. */
  whenSynced(): Promise<void> {
    return this.isSynced ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }

  build(): StateUpdate {
    return this.builder.build();
  }
}
