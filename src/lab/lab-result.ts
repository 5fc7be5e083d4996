import type { Fairness } from './fairness.js';

/** One pod's numbers in one mode: attributed by the client, seen by the pod, counted by the proxy. */
export interface LabPodResult {
  readonly pod: string;
  /** Responses the load generator attributed to this pod. */
  readonly requests: number;
  /** Requests the pod itself says it answered. */
  readonly podCounted: number;
  /** New connections the proxy's per-endpoint counter sent to it. */
  readonly proxyConnections: number;
  readonly weight: number;
  /** Highest number of connections open to it at once (sampled). */
  readonly peakOpenConnections: number;
  /** Mean number of connections open to it while the run lasted (sampled). */
  readonly meanOpenConnections: number;
}

export interface LabModeResult {
  readonly mode: string;
  readonly scheduler: string;
  /** The data plane the mode ran on: `userspace`, or a kernel one (`iptables`, …). */
  readonly dataplane: string;
  readonly pods: readonly LabPodResult[];
  readonly completeRequests: number;
  /** Requests without a complete response (connect, receive, reset, timeout). */
  readonly failures: number;
  readonly requestsPerSecond: number;
  readonly latencyMs: {
    readonly p50: number;
    readonly p90: number;
    readonly p99: number;
    readonly p999: number;
  };
  readonly fairness: Fairness;
  /** Busiest pod's open connections over the mean, averaged over the samples: 1 is even. */
  readonly openConnectionsMaxOverMean: number;
  /** [latency ms, fraction of requests at or below it], ascending. */
  readonly latencyCdf: readonly (readonly [number, number])[];
  /** New requests per pod (and failed ones) in each time bin of `binMs`, from the run's start. */
  readonly arrivals: {
    readonly binMs: number;
    readonly perPod: Readonly<Record<string, readonly number[]>>;
    readonly failed: readonly number[];
  };
  /** Open connections per pod over time (sampled). */
  readonly timeline: {
    readonly tMs: readonly number[];
    readonly open: Readonly<Record<string, readonly number[]>>;
  };
}

export interface LabScenarioResult {
  readonly scenario: string;
  readonly shows: string;
  readonly requests: number;
  readonly concurrency: number;
  readonly keepAlive: boolean;
  readonly clients: number;
  /** Whether requests hold their connections open (long-lived connections): the open-connection charts matter. */
  readonly holdsConnections: boolean;
  readonly modes: readonly LabModeResult[];
}

export interface LabReport {
  readonly generatedAt: string;
  /** The data planes the modes ran on, e.g. `userspace` or `iptables (kernel), userspace`. */
  readonly backend: string;
  readonly pods: number;
  readonly scenarios: readonly LabScenarioResult[];
}
