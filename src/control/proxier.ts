/**
 * The proxier: receives a source's events, keeps the state with a ProxyStateBuilder, and has the
 * data plane follow it through a bounded-frequency SyncRunner. Nothing reaches the data plane
 * before the source's initial lists are complete, so a restart never programs a partial world.
 */
import type { Dataplane } from '../dataplanes/dataplane.js';
import type { KproxyError } from '../errors.js';
import type { EndpointSliceObject, NodeObject, ServiceObject } from '../model/k8s-objects.js';
import { ZONE_LABEL } from '../model/k8s-objects.js';
import type { ProxyState } from '../model/proxy-state.js';
import type { SourceHandler } from '../sources/source.js';
import { type Clock, realClock } from './clock.js';
import { ProxyStateBuilder } from './proxy-state-builder.js';
import { SyncRunner } from './sync-runner.js';

export interface ProxierOptions {
  readonly nodeName: string;
  readonly dataplane: Dataplane;
  /** `minSyncPeriod`: at most one sync per this interval. */
  readonly minSyncPeriodMs: number;
  /** `syncPeriod`: a full resync at least this often. */
  readonly syncPeriodMs: number;
  readonly clock?: Clock;
  readonly logger: ProxierLogger;
}

export interface ProxierLogger {
  problem(error: KproxyError): void;
  synced(details: { servicePorts: number; changed: number; full: boolean; elapsedMs: number }): void;
  syncFailed(failures: ReadonlyMap<string, Error>): void;
}

export class Proxier implements SourceHandler {
  private readonly builder: ProxyStateBuilder;
  private readonly runner: SyncRunner;
  private sourceSynced = false;
  private lastSyncFailed = true;
  private current: ProxyState | undefined;

  constructor(private readonly options: ProxierOptions) {
    this.builder = new ProxyStateBuilder(options.nodeName);
    const clock = options.clock ?? realClock;
    this.runner = new SyncRunner({
      sync: () => this.syncDataplane(),
      minIntervalMs: options.minSyncPeriodMs,
      maxIntervalMs: options.syncPeriodMs,
      retryIntervalMs: Math.max(options.minSyncPeriodMs, 1000),
      clock,
      onError: (error) => options.logger.syncFailed(new Map([['*', error as Error]])),
    });
  }

  start(): void {
    this.runner.start();
  }

  async stop(): Promise<void> {
    await this.runner.stop();
  }

  /** The state the data plane was last asked to follow (undefined before the first sync). */
  get state(): ProxyState | undefined {
    return this.current;
  }

  service(key: string, service: ServiceObject | undefined): void {
    if (this.builder.updateService(key, service)) this.requestSync();
  }

  endpointSlice(key: string, slice: EndpointSliceObject | undefined): void {
    if (this.builder.updateEndpointSlice(key, slice)) this.requestSync();
  }

  node(name: string, node: NodeObject | undefined): void {
    if (name !== this.options.nodeName) return;
    if (this.builder.setZone(node?.metadata.labels?.[ZONE_LABEL] ?? '')) this.requestSync();
  }

  synced(): void {
    this.sourceSynced = true;
    this.runner.run();
  }

  problem(error: KproxyError): void {
    this.options.logger.problem(error);
  }

  private requestSync(): void {
    if (this.sourceSynced) this.runner.run();
  }

  private async syncDataplane(): Promise<boolean> {
    if (!this.sourceSynced) return true;
    const started = performance.now();
    const { state, changed } = this.builder.build();
    // After a failure, or when nothing changed (the periodic resync), the data plane redoes everything.
    const full = this.lastSyncFailed || changed.size === 0;
    this.current = state;
    this.lastSyncFailed = true; // until the data plane says otherwise (it may throw)
    const result = await this.options.dataplane.sync(state, full ? new Set() : changed);
    this.lastSyncFailed = result.failed.size > 0;
    if (this.lastSyncFailed) this.options.logger.syncFailed(result.failed);
    this.options.logger.synced({
      servicePorts: state.servicePorts.size,
      changed: changed.size,
      full,
      elapsedMs: performance.now() - started,
    });
    return !this.lastSyncFailed;
  }
}
