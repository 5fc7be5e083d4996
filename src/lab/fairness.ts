import { type ChiSquareResult, chiSquareTest, mean, standardDeviation } from './stats.js';

/** How evenly (or how close to the weights) a set of per-pod counts is spread. */
export interface Fairness extends ChiSquareResult {
  /** What the counts were tested against. */
  readonly expected: 'even' | 'weights';
  /** The busiest pod's count over the mean count, scaled by weight: 1 is perfect. */
  readonly maxOverMean: number;
  /** Standard deviation over mean of the weight-scaled counts: 0 is perfect. */
  readonly coefficientOfVariation: number;
}

/**
 * Fairness of `counts`, against an even spread or against `weights` (same order). Counts are
 * divided by their weight first for max/mean and CV, so a pod with weight 2 and twice the
 * connections counts as fair. Pods with weight 0 are left out of the scaled measures.
 */
export function fairnessOf(counts: readonly number[], weights?: readonly number[]): Fairness {
  const chi = chiSquareTest(counts, weights);
  const scaled = counts.flatMap((count, i) => {
    const weight = weights?.[i] ?? 1;
    return weight > 0 ? [count / weight] : [];
  });
  const average = mean(scaled);
  return {
    ...chi,
    expected: weights ? 'weights' : 'even',
    maxOverMean: average > 0 ? Math.max(...scaled) / average : 0,
    coefficientOfVariation: average > 0 ? populationSd(scaled) / average : 0,
  };
}

/** The spread of a whole population (n, not n − 1): every pod is counted, none is sampled. */
function populationSd(values: readonly number[]): number {
  if (values.length < 2) return 0;
  return standardDeviation(values) * Math.sqrt((values.length - 1) / values.length);
}
