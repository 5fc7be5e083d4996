import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fairnessOf } from '../../src/lab/fairness.js';
import { gnuplotTsv, percentCsv } from '../../src/lab/load/ab-files.js';
import { formatAbReport, formatBeyondAb } from '../../src/lab/load/print-summary.js';
import type { LoadRun, RequestSample } from '../../src/lab/load/sample.js';
import { summarizeLoad } from '../../src/lab/load/summarize.js';

function sample(pod: string, bodyBytes: number, totalMs = 2): RequestSample {
  return {
    startMs: 0,
    connectMs: 1,
    waitingMs: 1,
    totalMs,
    status: 200,
    bodyBytes,
    totalBytes: bodyBytes + 100,
    pod,
  };
}

function runOf(samples: RequestSample[], extra: Partial<LoadRun> = {}): LoadRun {
  return {
    url: new URL('http://127.0.0.1:8080/'),
    concurrency: 10,
    keepAlive: false,
    durationMs: 1000,
    samples,
    ...extra,
  };
}

test('pods whose pages differ in length: ab "Length" failures, reported apart as not failures', () => {
  const samples = [
    ...Array.from({ length: 334 }, () => sample('nginx-a', 45)),
    ...Array.from({ length: 333 }, () => sample('nginx-bb', 46)),
    ...Array.from({ length: 333 }, () => sample('nginx-ccc', 47)),
  ];
  const summary = summarizeLoad(runOf(samples));
  assert.equal(summary.failedRequests, 666);
  assert.deepEqual(summary.failures, { connect: 0, receive: 0, length: 666, exceptions: 0 });
  assert.equal(summary.realFailures, 0);
  assert.deepEqual(
    summary.lengthVariants.map((v) => [v.bytes, v.responses, v.pods]),
    [
      [45, 334, ['nginx-a']],
      [46, 333, ['nginx-bb']],
      [47, 333, ['nginx-ccc']],
    ],
  );
  assert.match(formatAbReport(summary), /\(Connect: 0, Receive: 0, Length: 666, Exceptions: 0\)/);
  assert.match(formatBeyondAb(summary), /reason: each pod answers with a page of its own length/);
  assert.equal(summarizeLoad(runOf(samples, { variableLength: true })).failedRequests, 0, 'ab -l');
});

test("ab's Connection Times and percentile lines, column for column", () => {
  const samples = Array.from({ length: 100 }, (_, i) => sample('p', 10, i + 1));
  const report = formatAbReport(summarizeLoad(runOf(samples)));
  assert.match(report, /^Total: {10}1 {3}51 {2}29\.0 {5}50 {5}100$/m);
  assert.match(report, /^ {2}50% {5}50$/m);
  assert.match(report, /^ 100% {4}100 \(longest request\)$/m);
});

test('fairness: chi-square p-value, max/mean and CV against even and against weights', () => {
  const even = fairnessOf([333, 333, 334]);
  assert.ok(even.pValue > 0.99);
  assert.ok(Math.abs(even.maxOverMean - 334 / (1000 / 3)) < 1e-9);
  const skewed = fairnessOf([1000, 0, 0]);
  assert.ok(skewed.pValue < 1e-100);
  assert.equal(skewed.maxOverMean, 3);
  assert.ok(Math.abs(skewed.coefficientOfVariation - Math.SQRT2) < 1e-9);
  // chi-square 5.991 with 2 degrees of freedom is the 95th percentile
  const edge = fairnessOf([
    100 + 5.991 ** 0.5 * 10 * Math.SQRT1_2,
    100 - 5.991 ** 0.5 * 10 * Math.SQRT1_2,
    100,
  ]);
  assert.ok(Math.abs(edge.pValue - 0.05) < 0.001, `p = ${edge.pValue}`);
  const weighted = fairnessOf([300, 200, 100], [3, 2, 1]);
  assert.equal(weighted.expected, 'weights');
  assert.ok(weighted.pValue > 0.99);
  assert.ok(Math.abs(weighted.maxOverMean - 1) < 1e-9);
  assert.ok(fairnessOf([200, 200, 200], [3, 2, 1]).pValue < 1e-10, 'an even spread is not a 3:2:1 one');
});

test("ab's sanity check: a rounded median and mean more than two sd apart print ab's ERROR lines", () => {
  const samples = Array.from({ length: 100 }, (_, i) => ({
    ...sample('p', 10),
    connectMs: i < 50 ? 1.49 : 1.51,
  }));
  const report = formatAbReport(summarizeLoad(runOf(samples)));
  assert.match(
    report,
    /^ERROR: The median and mean for the initial connection time are more than twice the standard$/m,
  );
  assert.doesNotMatch(report, /for the total time/);
  assert.doesNotMatch(formatAbReport(summarizeLoad(runOf(samples)), { confidence: false }), /ERROR|sd/);
});

test("ab's -e and -g files: percent served, and one tab-separated line per request", () => {
  const samples = Array.from({ length: 200 }, (_, i) => sample('p', 10, i + 1));
  const csv = percentCsv(samples.map((s) => s.totalMs))
    .trim()
    .split('\n');
  assert.equal(csv[0], 'Percentage served,Time in ms');
  assert.equal(csv.length, 101);
  assert.equal(csv[51], '50,101.000');
  const tsv = gnuplotTsv(samples, Date.UTC(2026, 10, 9, 5, 21, 0))
    .trim()
    .split('\n');
  assert.equal(tsv[0], 'starttime\tseconds\tctime\tdtime\tttime\twait');
  assert.equal(tsv.length, 201);
  assert.match(tsv[200] ?? '', /^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d 2026\t1794201660\t1\t199\t200\t1$/);
});
