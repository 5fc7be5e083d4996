/**
 * Turns Service, EndpointSlice and Node events into successive immutable ProxyStates. Only the
 * Services touched since the last build are recomputed, and only the service ports whose state
 * really differs are reported as changed — the rest of the snapshot is shared with the last one.
 */

import type { Endpoint } from '../model/endpoint.js';
import { endpointAddress } from '../model/endpoint.js';
import type { EndpointSliceObject, ServiceObject } from '../model/k8s-objects.js';
import { LayeredMap } from '../model/layered-map.js';
import {
  freezeProxyState,
  type ProxyState,
  proxyStateOf,
  type ServicePortState,
} from '../model/proxy-state.js';
import type { ServicePort } from '../model/service.js';
import { servicePortsOf, sliceEndpointsFor, sliceServiceKey } from '../model/service-ports.js';
import type { NodeTopology } from './categorize-endpoints.js';
import { ChangeTracker, objectFingerprint } from './change-tracker.js';
import { servicePortState } from './service-port-state.js';

export interface StateUpdate {
  readonly state: ProxyState;
  /** Service ports added, removed or changed since the previous build. */
  readonly changed: ReadonlySet<string>;
}

export function objectKey(object: { metadata: { name: string; namespace?: string } }): string {
  return `${object.metadata.namespace ?? 'default'}/${object.metadata.name}`;
}

export class ProxyStateBuilder {
  readonly services = new ChangeTracker<ServiceObject>(objectFingerprint);
  readonly endpointSlices = new ChangeTracker<EndpointSliceObject>(objectFingerprint);
  private readonly slicesByService = new Map<string, Set<string>>();
  private readonly portIdsByService = new Map<string, string[]>();
  private readonly portStates = new Map<string, ServicePortState>();
  /** Snapshots share `snapshotBase` and carry the changes made since it was taken (see LayeredMap). */
  private snapshotBase: ReadonlyMap<string, ServicePortState> = new Map();
  private sinceBase = new Map<string, ServicePortState | undefined>();
  private node: NodeTopology;
  private topologyChanged = true;
  private state: ProxyState;

  constructor(nodeName: string, zone = '') {
    this.node = { nodeName, zone };
    this.state = freezeProxyState(nodeName, []);
  }

  updateService(key: string, service: ServiceObject | undefined): boolean {
    return this.services.update(key, service);
  }

  updateEndpointSlice(key: string, slice: EndpointSliceObject | undefined): boolean {
    const before = this.endpointSlices.get(key);
    if (!this.endpointSlices.update(key, slice)) return false;
    const beforeService = before && sliceServiceKey(before);
    if (beforeService) this.slicesByService.get(beforeService)?.delete(key);
    const afterService = slice && sliceServiceKey(slice);
    if (afterService) {
      const keys = this.slicesByService.get(afterService) ?? new Set<string>();
      keys.add(key);
      this.slicesByService.set(afterService, keys);
    }
    return true;
  }

  /** This node's zone (its `topology.kubernetes.io/zone` label); a change re-chooses every endpoint. */
  setZone(zone: string): boolean {
    if (zone === this.node.zone) return false;
    this.node = { ...this.node, zone };
    this.topologyChanged = true;
    return true;
  }

  hasPendingChanges(): boolean {
    return (
      this.topologyChanged || this.services.hasPendingChanges() || this.endpointSlices.hasPendingChanges()
    );
  }

  /** The state as of every event so far, and which service ports changed since the last build. */
  build(): StateUpdate {
    const dirty = this.dirtyServiceKeys();
    const changed = new Set<string>();
    for (const key of dirty) this.rebuildService(key, changed);
    if (changed.size > 0) this.state = proxyStateOf(this.node.nodeName, this.snapshotPorts());
    return { state: this.state, changed };
  }

  /** Copies everything only when the changes since the last full copy grow past a 16th of it. */
  private snapshotPorts(): ReadonlyMap<string, ServicePortState> {
    if (this.sinceBase.size > Math.max(64, this.snapshotBase.size / 16)) {
      this.snapshotBase = new Map(this.portStates);
      this.sinceBase = new Map();
      return this.snapshotBase;
    }
    return new LayeredMap(this.snapshotBase, new Map(this.sinceBase));
  }

  private dirtyServiceKeys(): Set<string> {
    const dirty = new Set<string>();
    for (const change of this.services.drain()) dirty.add(change.key);
    for (const change of this.endpointSlices.drain()) {
      for (const slice of [change.previous, change.current]) {
        const key = slice && sliceServiceKey(slice);
        if (key) dirty.add(key);
      }
    }
    if (this.topologyChanged) {
      for (const key of this.portIdsByService.keys()) dirty.add(key);
      for (const service of this.services.values()) dirty.add(objectKey(service));
      this.topologyChanged = false;
    }
    return dirty;
  }

  private rebuildService(key: string, changed: Set<string>): void {
    const service = this.services.get(key);
    const ports = service ? servicePortsOf(service) : [];
    const newIds = new Set(ports.map((port) => port.id));
    for (const id of this.portIdsByService.get(key) ?? []) {
      if (!newIds.has(id) && this.portStates.delete(id)) {
        changed.add(id);
        this.sinceBase.set(id, undefined);
      }
    }
    for (const port of ports) {
      const next = servicePortState(port, this.endpointsFor(key, port), this.node);
      const previous = this.portStates.get(port.id);
      if (previous && JSON.stringify(previous) === JSON.stringify(next)) continue;
      this.portStates.set(port.id, Object.freeze(next));
      this.sinceBase.set(port.id, next);
      changed.add(port.id);
    }
    if (ports.length > 0) this.portIdsByService.set(key, [...newIds]);
    else this.portIdsByService.delete(key);
  }

  /** The port's endpoints over all its Service's slices (in slice-name order), each address once. */
  private endpointsFor(serviceKey: string, port: ServicePort): Endpoint[] {
    const sliceKeys = this.slicesByService.get(serviceKey);
    if (!sliceKeys || sliceKeys.size === 0) return [];
    const slices = [...sliceKeys].sort().flatMap((key) => this.endpointSlices.get(key) ?? []);
    const perSlice = slices.map((slice) =>
      sliceEndpointsFor(slice, port.portName, port.protocol, this.node.nodeName),
    );
    if (perSlice.length === 1) return perSlice[0] ?? [];
    const byAddress = new Map<string, Endpoint>();
    for (const endpoints of perSlice) {
      for (const endpoint of endpoints) {
        const address = endpointAddress(endpoint);
        if (!byAddress.has(address)) byAddress.set(address, endpoint);
      }
    }
    return [...byAddress.values()];
  }
}
