import { type ChiSquareResult, chiSquareTest, mean, percentile, standardDeviation } from '../stats.js';
import type { LoadRun, RequestSample } from './sample.js';

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
  /** (connections − even) / even: +0.02 means 2% more than an even spread would give. */
  readonly deviationFromEven: number;
}

export interface LoadSummary {
  readonly url: string;
  readonly serverSoftware: string;
  readonly documentLength: number;
  readonly concurrency: number;
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
  /** Responses whose length differed from the first — ab calls them failed; usually they are not. */
  readonly lengthMismatches: number;
  readonly non2xxResponses: number;
  readonly totalTransferred: number;
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
  readonly distribution: readonly PodShare[];
  readonly fairness: ChiSquareResult;
}

const AB_PERCENTS = [50, 66, 75, 80, 90, 95, 98, 99, 100];

/** Turns a run's raw samples into ab's numbers plus the per-pod spread. Pure. */
export function summarizeLoad(run: LoadRun, knownPods: readonly string[] = []): LoadSummary {
  const answered = run.samples.filter((sample) => !sample.failure);
  const documentLength = answered[0]?.bodyBytes ?? 0;
  const lengthMismatches = answered.filter((sample) => sample.bodyBytes !== documentLength).length;
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
  const distribution = podShares(answered, knownPods);
  return {
    url: run.url.toString(),
    serverSoftware: answered[0]?.serverSoftware ?? '',
    documentLength,
    concurrency: run.concurrency,
    timeTakenSeconds: seconds,
    completeRequests: done,
    failedRequests: failures.connect + failures.receive + failures.length + failures.exceptions,
    failures,
    lengthMismatches,
    non2xxResponses: answered.filter((sample) => sample.status < 200 || sample.status >= 300).length,
    totalTransferred: totalBytes,
    htmlTransferred: sum(answered.map((sample) => sample.bodyBytes)),
    requestsPerSecond: seconds > 0 ? done / seconds : 0,
    timePerRequestMs: done > 0 ? (run.concurrency * run.durationMs) / done : 0,
    timePerRequestAcrossMs: done > 0 ? run.durationMs / done : 0,
    transferRateKBps: seconds > 0 ? totalBytes / 1024 / seconds : 0,
    connectionTimes: {
      connect: timingRow(answered.map((s) => s.connectMs)),
      processing: timingRow(answered.map((s) => s.totalMs - s.connectMs)),
      waiting: timingRow(answered.map((s) => s.waitingMs)),
      total: timingRow(answered.map((s) => s.totalMs)),
    },
    percentiles: percentileTable(answered.map((s) => s.totalMs)),
    distribution,
    fairness: chiSquareTest(distribution.map((share) => share.connections)),
  };
}

function podShares(answered: readonly RequestSample[], knownPods: readonly string[]): PodShare[] {
  const counts = new Map<string, number>(knownPods.map((pod) => [pod, 0]));
  for (const sample of answered) {
    if (sample.pod !== undefined) counts.set(sample.pod, (counts.get(sample.pod) ?? 0) + 1);
  }
  const attributed = sum([...counts.values()]);
  const even = counts.size > 0 ? attributed / counts.size : 0;
  return [...counts]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([pod, connections]) => ({
      pod,
      connections,
      share: attributed > 0 ? connections / attributed : 0,
      deviationFromEven: even > 0 ? (connections - even) / even : 0,
    }));
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

function percentileTable(totals: readonly number[]): { percent: number; ms: number }[] {
  const sorted = [...totals].sort((a, b) => a - b);
  return AB_PERCENTS.map((percent) => ({ percent, ms: percentile(sorted, percent) }));
}

function sum(values: readonly number[]): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}
