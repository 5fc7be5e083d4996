import type { ProxyState } from '../../model/proxy-state.js';
import type { LabMode } from '../lab-mode.js';
import type { LoadOptions } from '../load/load-generator.js';
import type { LoadRun } from '../load/sample.js';

/** Where the lab's clients send their load for one mode. */
export interface LabFrontend {
  readonly host: string;
  readonly port: number;
}

/** One pod of the lab's Service, wherever it runs. */
export interface LabPod {
  readonly name: string;
  /** `ip:port`: the key of the proxy's per-endpoint counters. */
  readonly endpoint: string;
  /** Requests this pod answered: what the backend saw. */
  requests(): number;
  /** Connections open to it right now. */
  openConnections(): number;
}

/** The lab's Service and its pods; pods can be added and killed while load runs. */
export interface LabCluster {
  /** Every pod that ever ran, killed ones included, in the order they started. */
  allPods(): readonly LabPod[];
  addPod(): Promise<LabPod>;
  /** The pod dies (its connections drop) but stays in the EndpointSlice until `removeEndpoint`. */
  killPod(name: string): Promise<void>;
  removeEndpoint(name: string): void;
  /** Brings every pod's counts up to date (pods in other processes report them by message). */
  refreshCounts(): Promise<void>;
  /** The ProxyState a proxy computes from the Service and its EndpointSlice now. */
  state(): ProxyState;
  stop(): Promise<void>;
}

/**
 * What the lab needs from a data plane, and no more: where its pods and clients live, how to
 * program one Service in one mode and follow endpoint changes, endpoint weights, per-endpoint
 * counters. The userspace backend keeps everything on loopback without root; a kernel backend
 * (iptables, nftables, ipvs) puts pods and clients in private network namespaces and runs the
 * load there, behind the same interface.
 */
export interface LabBackend {
  readonly name: string;
  startCluster(podCount: number): Promise<LabCluster>;
  /** Programs `state` with `mode`'s scheduler; resolves to the Service frontend. */
  start(mode: LabMode, state: ProxyState): Promise<LabFrontend>;
  /** The endpoints changed (a pod added or removed): program the new state. */
  update(state: ProxyState): Promise<void>;
  /** Relative weights per endpoint (`ip:port`); endpoints not named keep their weight. */
  setWeights(weights: ReadonlyMap<string, number>): void;
  /** New connections sent to each endpoint (`ip:port`) since `start` (a kernel reads its rule counters). */
  connectionCounters(): Promise<ReadonlyMap<string, number>>;
  /** Source addresses for `count` distinct clients where the clients run (undefined: one client). */
  clientAddresses(count: number): Promise<readonly string[] | undefined>;
  /** Runs the load from where the clients live. */
  runLoad(options: LoadOptions): Promise<LoadRun>;
  stop(): Promise<void>;
}

/** Makes a fresh backend for each mode of a comparison (which data plane may depend on the mode). */
export type LabBackendFactory = (mode: LabMode) => LabBackend;
