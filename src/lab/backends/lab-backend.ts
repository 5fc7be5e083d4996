import type { ProxyState } from '../../model/proxy-state.js';
import type { LabMode } from '../lab-mode.js';

/** Where the lab's clients send their load for one mode. */
export interface LabFrontend {
  readonly host: string;
  readonly port: number;
}

/**
 * What the lab needs from a data plane, and no more: program one Service in one mode, follow
 * endpoint changes mid-run, set endpoint weights, read per-endpoint counters, tear down. The
 * userspace data plane implements it without root; a kernel data plane (iptables, nftables, ipvs
 * in a private network namespace) can be added behind the same interface.
 */
export interface LabBackend {
  readonly name: string;
  /** Programs `state` with `mode`'s scheduler; resolves to the Service frontend. */
  start(mode: LabMode, state: ProxyState): Promise<LabFrontend>;
  /** The endpoints changed (a pod added or removed): program the new state. */
  update(state: ProxyState): Promise<void>;
  /** Relative weights per endpoint (`ip:port`); endpoints not named keep their weight. */
  setWeights(weights: ReadonlyMap<string, number>): void;
  /** New connections sent to each endpoint (`ip:port`) since `start`. */
  connectionCounters(): ReadonlyMap<string, number>;
  stop(): Promise<void>;
}

/** Makes a fresh backend for each mode of a comparison. */
export type LabBackendFactory = () => LabBackend;
