import { KproxyError } from '../errors.js';

/** Something that happens to the cluster once a share of the requests is done. */
export interface ScenarioEvent {
  /** Fraction of the requests completed when the event fires, 0…1. */
  readonly atFraction: number;
  readonly action: 'add-pod' | 'kill-pod' | 'remove-endpoint';
  /** The pod to kill or remove, by index. */
  readonly podIndex?: number;
}

export interface Scenario {
  readonly name: string;
  /** What the scenario shows, one line, for the report. */
  readonly shows: string;
  readonly keepAlive: boolean;
  /** Distinct client source addresses; 1 means one client. */
  readonly clients: number;
  /** How long the pod holds request `i` open, in ms; undefined for immediate answers. */
  readonly holdMs?: (index: number) => number;
  /** Weight per pod index; undefined means all 1. */
  readonly weights?: readonly number[];
  readonly events: readonly ScenarioEvent[];
  /** A concurrency that suits the scenario, used unless the user gives -c. */
  readonly defaultConcurrency: (pods: number) => number;
}

const base = { keepAlive: false, clients: 1, events: [], defaultConcurrency: () => 50 };

/**
 * Uneven connection lengths: about one request in eight holds 250 ms, the rest 3 ms. Which ones
 * is decided by a well-mixed hash of the index (murmur3's finalizer), so the long ones fall at
 * random and never line up with a round-robin rotation — yet every run is the same.
 */
export function unevenHoldMs(index: number): number {
  let h = index + 1;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 29 === 0 ? 250 : 3;
}

export const scenarios: readonly Scenario[] = [
  {
    ...base,
    name: 'new-connections',
    shows: "the seed's experiment: one client, a new connection per request",
  },
  {
    ...base,
    name: 'keep-alive',
    shows:
      'a few reused connections: the spread of connections decides the spread of requests (keep-alive skew)',
    keepAlive: true,
    defaultConcurrency: (pods) => pods + 1,
  },
  {
    ...base,
    name: 'many-clients',
    shows: 'clients from 32 source addresses: where sh (by client address) spreads at all',
    clients: 32,
  },
  {
    ...base,
    name: 'long-lived',
    shows: 'connections of uneven length: least-connection keeps open connections per pod even (max/mean)',
    holdMs: unevenHoldMs,
    defaultConcurrency: () => 30,
  },
  {
    ...base,
    name: 'pod-added',
    shows: 'a pod added after a third of the run: how fast each mode gives it its share',
    events: [{ atFraction: 1 / 3, action: 'add-pod' }],
  },
  {
    ...base,
    name: 'pod-killed',
    shows: 'a pod killed after a third of the run, its endpoint removed a sixth later: errors per mode',
    holdMs: () => 20,
    events: [
      { atFraction: 1 / 3, action: 'kill-pod', podIndex: 0 },
      { atFraction: 1 / 2, action: 'remove-endpoint', podIndex: 0 },
    ],
  },
  {
    ...base,
    name: 'weighted',
    shows: 'endpoint weights 3:2:1…: which schedulers honour weights (fairness tested against them)',
    weights: [3, 2, 1],
  },
];

export function scenarioNamed(name: string): Scenario {
  const scenario = scenarios.find((candidate) => candidate.name === name);
  if (!scenario) {
    throw new KproxyError('KPROXY_E_USAGE', `unknown scenario "${name}"`, {
      hint: `use one of: ${scenarios.map((s) => s.name).join(', ')}`,
    });
  }
  return scenario;
}

/** The weight of pod `index` in `scenario` (pods beyond the list get the last weight). */
export function podWeight(scenario: Scenario, index: number): number {
  const weights = scenario.weights;
  if (!weights || weights.length === 0) return 1;
  return weights[Math.min(index, weights.length - 1)] ?? 1;
}
