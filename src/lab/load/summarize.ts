import { type Fairness, fairnessOf } from '../fairness.js';
import { mean, percentile, standardDeviation } from '../stats.js';
import type { LoadRun, RequestSample } from './sample.js';
import type { TlsInfo } from './tls-client.js';

export interface TimingRow {
  readonly min: number;
  readonly mean: number;
  readonly sd: number;
  readonly median: number;
  readonly max: number;
}

export interface PodShare {
  readonly pod: string;
  readonly connections: number;
  /** Fraction of attributed responses. */
  readonly share: number;
  /** (connections − expected) / expected: +0.02 means 2% more than its fair share. */
  readonly deviationFromEven: number;
}

/** Responses of one body length, and the pods that sent them. */
export interface LengthVariant {
  readonly bytes: number;
  readonly responses: number;
  readonly pods: readonly string[];
}

export interface LoadSummary {
  readonly url: string;
  readonly serverSoftware: string;
  readonly documentLength: number;
  readonly variableLength: boolean;
  readonly concurrency: number;
  /** Whether the run asked for keep-alive (ab -k). */
  readonly keepAlive: boolean;
  readonly timeTakenSeconds: number;
  readonly completeRequests: number;
  /** ab's count: connect, receive and exception failures plus responses of another length. */
  readonly failedRequests: number;
  readonly failures: {
    readonly connect: number;
    readonly receive: number;
    readonly length: number;
    readonly exceptions: number;
  };
  /** Requests that really failed: no complete response (ab's count without Length). */
  readonly realFailures: number;
  /** Responses whose length differed from the first — ab calls them failed; usually they are not. */
  readonly lengthMismatches: number;
  /** Every body length seen, with who sent it: the reason for the Length "failures". */
  readonly lengthVariants: readonly LengthVariant[];
  readonly non2xxResponses: number;
  readonly keepAliveRequests: number;
  readonly totalTransferred: number;
  readonly totalBodySent: number;
  readonly htmlTransferred: number;
  readonly requestsPerSecond: number;
  /** ab's "Time per request (mean)": concurrency × time / requests, in ms. */
  readonly timePerRequestMs: number;
  /** ab's "(mean, across all concurrent requests)": time / requests, in ms. */
  readonly timePerRequestAcrossMs: number;
  readonly transferRateKBps: number;
  readonly connectionTimes: {
    readonly connect: TimingRow;
    readonly processing: TimingRow;
    readonly waiting: TimingRow;
    readonly total: TimingRow;
  };
  /** Total time percentiles, ab's table: 50 66 75 80 90 95 98 99 100. */
  readonly percentiles: readonly { readonly percent: number; readonly ms: number }[];
  /** Finer percentiles, to p99.9, unrounded. */
  readonly latencyMs: {
    readonly p50: number;
    readonly p90: number;
    readonly p99: number;
    readonly p999: number;
  };
  readonly distribution: readonly PodShare[];
  readonly fairness: Fairness;
  /** https runs: what the TLS handshake negotiated (ab's SSL/TLS Protocol, Server Temp Key, TLS Server Name). */
  readonly tls?: TlsInfo;
}

export interface SummarizeOptions {
  /** Pods to list even when they got nothing. */
  readonly knownPods?: readonly string[];
  /** Expected weight per pod; the fairness test compares against these instead of an even spread. */
  readonly weights?: ReadonlyMap<string, number>;
  /** Counts per pod from another source (the proxy's counters), used instead of attribution. */
  readonly podCounts?: ReadonlyMap<string, number>;
}

const AB_PERCENTS = [50, 66, 75, 80, 90, 95, 98, 99, 100];

/** Turns a run's raw samples into ab's numbers plus the per-pod spread. Pure. */
export function summarizeLoad(run: LoadRun, options: SummarizeOptions = {}): LoadSummary {
  const { knownPods = [], weights, podCounts } = options;
  const answered = run.samples.filter((sample) => !sample.failure);
  const documentLength = answered[0]?.bodyBytes ?? 0;
  const lengthMismatches = run.variableLength
    ? 0
    : answered.filter((sample) => sample.bodyBytes !== documentLength).length;
  const count = (failure: RequestSample['failure']) =>
    run.samples.filter((s) => s.failure === failure).length;
  const failures = {
    connect: count('connect'),
    receive: count('receive'),
    length: lengthMismatches,
    exceptions: count('exception'),
  };
  const seconds = run.durationMs / 1000;
  const done = answered.length;
  const totalBytes = sum(answered.map((sample) => sample.totalBytes));
  const counts = podCounts ?? countByPod(answered, knownPods);
  const distribution = podShares(counts, weights);
  const sortedTotals = answered.map((s) => s.totalMs).sort((a, b) => a - b);
  const realFailures = failures.connect + failures.receive + failures.exceptions;
  return {
    url: run.url.toString(),
    serverSoftware: answered[0]?.serverSoftware ?? '',
    documentLength,
    variableLength: run.variableLength ?? false,
    concurrency: run.concurrency,
    keepAlive: run.keepAlive,
    timeTakenSeconds: seconds,
    completeRequests: done,
    failedRequests: realFailures + failures.length,
    failures,
    realFailures,
    lengthMismatches,
    lengthVariants: lengthVariants(answered),
    non2xxResponses: answered.filter((sample) => sample.status < 200 || sample.status >= 300).length,
    keepAliveRequests: answered.filter((sample) => run.keepAlive && sample.reusedConnection).length,
    totalTransferred: totalBytes,
    totalBodySent: run.bodyBytesSent ?? 0,
    htmlTransferred: sum(answered.map((sample) => sample.bodyBytes)),
    requestsPerSecond: seconds > 0 ? done / seconds : 0,
    timePerRequestMs: done > 0 ? (run.concurrency * run.durationMs) / done : 0,
    timePerRequestAcrossMs: done > 0 ? run.durationMs / done : 0,
    transferRateKBps: seconds > 0 ? totalBytes / 1024 / seconds : 0,
    connectionTimes: {
      connect: timingRow(answered.map((s) => s.connectMs)),
      processing: timingRow(answered.map((s) => s.totalMs - s.connectMs)),
      waiting: timingRow(answered.map((s) => s.waitingMs)),
      total: timingRow(sortedTotals),
    },
    percentiles: AB_PERCENTS.map((percent) => ({ percent, ms: percentile(sortedTotals, percent) })),
    latencyMs: {
      p50: percentile(sortedTotals, 50),
      p90: percentile(sortedTotals, 90),
      p99: percentile(sortedTotals, 99),
      p999: percentile(sortedTotals, 99.9),
    },
    distribution,
    fairness: fairnessOf(
      distribution.map((share) => share.connections),
      weights ? distribution.map((share) => weights.get(share.pod) ?? 0) : undefined,
    ),
    tls: run.tls,
  };
}

function countByPod(answered: readonly RequestSample[], knownPods: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>(knownPods.map((pod) => [pod, 0]));
  for (const sample of answered) {
    if (sample.pod !== undefined) counts.set(sample.pod, (counts.get(sample.pod) ?? 0) + 1);
  }
  return counts;
}

function podShares(counts: ReadonlyMap<string, number>, weights?: ReadonlyMap<string, number>): PodShare[] {
  const attributed = sum([...counts.values()]);
  const weightOf = (pod: string) => (weights ? (weights.get(pod) ?? 0) : 1);
  const totalWeight = sum([...counts.keys()].map(weightOf));
  return [...counts]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([pod, connections]) => {
      const expected = totalWeight > 0 ? (attributed * weightOf(pod)) / totalWeight : 0;
      return {
        pod,
        connections,
        share: attributed > 0 ? connections / attributed : 0,
        deviationFromEven: expected > 0 ? (connections - expected) / expected : 0,
      };
    });
}

function lengthVariants(answered: readonly RequestSample[]): LengthVariant[] {
  const byLength = new Map<number, { responses: number; pods: Set<string> }>();
  for (const sample of answered) {
    const entry = byLength.get(sample.bodyBytes) ?? { responses: 0, pods: new Set<string>() };
    entry.responses++;
    if (sample.pod !== undefined) entry.pods.add(sample.pod);
    byLength.set(sample.bodyBytes, entry);
  }
  return [...byLength].map(([bytes, { responses, pods }]) => ({ bytes, responses, pods: [...pods].sort() }));
}

function timingRow(values: readonly number[]): TimingRow {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    min: sorted[0] ?? 0,
    mean: mean(sorted),
    sd: standardDeviation(sorted),
    median: percentile(sorted, 50),
    max: sorted[sorted.length - 1] ?? 0,
  };
}

function sum(values: readonly number[]): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}
