/**
 * Pure table builders shared by the schedulers and by the kernel data planes that render them
 * into maps (nftables): each returns, per bucket / slot / turn, the index of a destination in the
 * list it was given, exactly as the kernel's IPVS module fills its own table.
 *
 * - `weightedBucketTable`: ip_vs_sh's 256 buckets. Destinations in list order, each taking as
 *   many consecutive buckets as its weight (at least one: a weight-0 destination still takes a
 *   bucket, where the scheduler then finds it unavailable), wrapping round until all are filled.
 *   ip_vs_dh fills the same way with every weight taken as 1.
 * - `maglevTable`: ip_vs_mh's lookup table (Maglev, NSDI '16 §3.4) of prime size M. Each
 *   destination gets offset = h1 % M and skip = h2 % (M − 1) + 1 from hsiphash of its address and
 *   port; in turns, each destination claims its next free preferred slot (offset + j·skip),
 *   `turns` slots per turn where turns = (weight / gcd) >> shift.
 * - `wrrCycle`: one full cycle of ip_vs_wrr's current-weight walk (see WrrCursor).
 */
import { KproxyError } from '../errors.js';
import { endpointHashInput, sipHasher } from './hashing.js';

export const BUCKET_TABLE_SIZE = 256;

/** The prime table sizes ip_vs_mh can be built with (CONFIG_IP_VS_MH_TAB_INDEX 8…17). */
export const MAGLEV_TABLE_SIZES: readonly number[] = [
  251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071,
];
export const DEFAULT_MAGLEV_TABLE_SIZE = 4093;

/**
 * ip_vs_mh's two hashes, keyed as generate_hash_secret() in ip_vs_mh.c keys them: fixed keys, so
 * every node builds the same table. The first also places a connection in the table.
 */
export const maglevHash1 = sipHasher({ k0: 2654435761n, k1: 2654435761n });
const maglevHash2 = sipHasher({ k0: 2654446892n, k1: 2654446892n });

/** ip_vs_sh's table: per bucket, the index of its destination in `weights` (−1 only when there is none). */
export function weightedBucketTable(
  weights: readonly number[],
  size: number = BUCKET_TABLE_SIZE,
): Int32Array {
  const table = new Int32Array(size).fill(-1);
  if (weights.length === 0) return table;
  let index = 0;
  let filled = 0;
  for (let bucket = 0; bucket < size; bucket++) {
    table[bucket] = index;
    if (++filled >= (weights[index] ?? 0)) {
      index = (index + 1) % weights.length;
      filled = 0;
    }
  }
  return table;
}

/**
 * ip_vs_mh's lookup table: per slot, the index of its destination (−1 only when no weight is
 * positive). Each `id` must be the endpoint address `ip:port` or `[ipv6]:port`: the kernel hashes
 * the destination's address and port. `size` must be prime and at least the number of destinations.
 */
export function maglevTable(
  destinations: readonly { id: string; weight: number }[],
  size: number = DEFAULT_MAGLEV_TABLE_SIZE,
): Int32Array {
  checkMaglevSize(size, destinations.length);
  const table = new Int32Array(size);
  const turns = Int32Array.from(
    maglevTurns(
      destinations.map((destination) => destination.weight),
      size,
    ),
  );
  if (!turns.some((count) => count > 0)) return table.fill(-1);
  const next = new Int32Array(destinations.length);
  const skip = new Int32Array(destinations.length);
  destinations.forEach((destination, i) => {
    const hashInput = maglevHashInput(destination.id);
    next[i] = maglevHash1(hashInput, size);
    skip[i] = maglevHash2(hashInput, size - 1) + 1;
  });
  fillMaglevTable(table, turns, next, skip);
  return table;
}

/** Free slots left when filling switches from probing to choosing among them (fillLastSlots). */
const LAST_SLOTS = 128;

/**
 * ip_vs_mh_populate: destinations take turns in list order, each claiming `turns` slots per turn,
 * each slot the next free one along its permutation (next, next + skip, … mod M).
 */
function fillMaglevTable(table: Int32Array, turns: Int32Array, next: Int32Array, skip: Int32Array): void {
  const size = table.length;
  const count = turns.length;
  // Probing a byte map instead of the table keeps the hot loop in a quarter of the memory.
  const taken = new Uint8Array(size);
  let destination = 0;
  let turn = 0;
  for (let filled = 0; filled < size - LAST_SLOTS; filled++) {
    while (turn >= (turns[destination] as number)) {
      turn = 0;
      destination = destination + 1 === count ? 0 : destination + 1;
    }
    const step = skip[destination] as number;
    let slot = next[destination] as number;
    while (taken[slot] === 1) {
      slot += step;
      if (slot >= size) slot -= size;
    }
    next[destination] = slot;
    taken[slot] = 1;
    table[slot] = destination;
    turn++;
  }
  fillLastSlots(table, turns, next, skip, taken, destination, turn);
}

/**
 * The same turns for the last few free slots, without probing: with k free slots left a probe
 * finds one only every M/k tries, and those last fills would be half of all probes. The first
 * free slot along a permutation is the one the fewest steps away, and the steps from `next` to
 * slot s are (s − next) · skip⁻¹ mod M.
 */
function fillLastSlots(
  table: Int32Array,
  turns: Int32Array,
  next: Int32Array,
  skip: Int32Array,
  taken: Uint8Array,
  firstDestination: number,
  firstTurn: number,
): void {
  const size = table.length;
  const free: number[] = [];
  for (let slot = 0; slot < size; slot++) if (taken[slot] === 0) free.push(slot);
  let destination = firstDestination;
  let turn = firstTurn;
  while (free.length > 0) {
    if (turn >= (turns[destination] as number)) {
      turn = 0;
      destination = (destination + 1) % turns.length;
      continue;
    }
    const inverse = modularInverse(skip[destination] as number, size);
    const from = next[destination] as number;
    let fewestSteps = size;
    let chosen = 0;
    for (let index = 0; index < free.length; index++) {
      const slot = free[index] as number;
      const product = (slot >= from ? slot - from : slot - from + size) * inverse; // < 2⁵³: exact
      const steps = product - Math.floor(product / size) * size;
      if (steps < fewestSteps) {
        fewestSteps = steps;
        chosen = index;
      }
    }
    const slot = free[chosen] as number;
    free[chosen] = free[free.length - 1] as number;
    free.pop();
    next[destination] = slot;
    table[slot] = destination;
    turn++;
  }
}

/** x with a·x ≡ 1 (mod m), for a coprime to m (extended Euclid). */
function modularInverse(a: number, m: number): number {
  let [remainder, nextRemainder] = [m, a];
  let [coefficient, nextCoefficient] = [0, 1];
  while (nextRemainder !== 0) {
    const quotient = Math.floor(remainder / nextRemainder);
    [remainder, nextRemainder] = [nextRemainder, remainder - quotient * nextRemainder];
    [coefficient, nextCoefficient] = [nextCoefficient, coefficient - quotient * nextCoefficient];
  }
  return coefficient < 0 ? coefficient + m : coefficient;
}

/** The value ip_vs_mh hashes for an endpoint: its port plus its address (mod 2³²). */
export function maglevHashInput(id: string, offset = 0): number {
  const { address, port } = endpointHashInput(id);
  return (offset + port + address) >>> 0;
}

/**
 * Slots per turn: weight / gcd, shifted right so the largest fits in IP_VS_MH_TAB_BITS bits
 * (half the table's index: 6 bits at 4093), but at least 1 for any non-zero weight.
 */
function maglevTurns(weights: readonly number[], size: number): number[] {
  const divisor = weights.reduce((g, weight) => (weight > 0 ? (g > 0 ? gcd(g, weight) : weight) : g), 0);
  if (divisor < 1) return weights.map(() => 0);
  const tableBits = Math.floor(Math.round(Math.log2(size)) / 2);
  const maxTurns = Math.max(...weights) / divisor;
  const shift = Math.max(0, bitLength(maxTurns) - tableBits);
  return weights.map((weight) => (weight > 0 ? Math.max(1, Math.floor(weight / divisor) >>> shift) : 0));
}

function checkMaglevSize(size: number, destinationCount: number): void {
  if (!Number.isInteger(size) || size < 2 || !isPrime(size)) {
    throw new KproxyError('KPROXY_E_SCHEDULER_FLAG', `Maglev table size ${size} is not a prime`, {
      hint: `use one of the kernel's sizes: ${MAGLEV_TABLE_SIZES.join(', ')}`,
    });
  }
  if (destinationCount > size) {
    throw new KproxyError(
      'KPROXY_E_SCHEDULER_FLAG',
      `${destinationCount} endpoints do not fit a Maglev table of ${size}`,
      {
        hint: 'the kernel refuses more destinations than table slots; choose a larger table size',
      },
    );
  }
}

export function gcd(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y !== 0) [x, y] = [y, x % y];
  return x;
}

function bitLength(value: number): number {
  return value <= 0 ? 0 : Math.floor(Math.log2(value)) + 1;
}

function isPrime(n: number): boolean {
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return n >= 2;
}

/**
 * ip_vs_wrr's state: the current destination (-1 = the list head), the current weight cw, the
 * maximum mw = max weight − (gcd − 1) and the step di = gcd. Each pick scans on from the current
 * destination for one available with weight ≥ cw; at the end of the list cw drops by di, and
 * below 1 starts again at mw. Weights 3:2:1 thus give A A B A B C.
 */
export class WrrCursor {
  private current = -1;
  private cw = 0;
  private mw = 0;
  private di = 1;

  constructor(weights: readonly number[]) {
    this.reset(weights);
  }

  /** ip_vs_wrr_dest_changed: back to the list head, cw kept within the new range. */
  reset(weights: readonly number[]): void {
    this.current = -1;
    this.di = weights.reduce((g, weight) => (weight > 0 ? (g > 0 ? gcd(g, weight) : weight) : g), 0) || 1;
    this.mw = Math.max(0, ...weights) - (this.di - 1);
    if (this.cw > this.mw || this.cw === 0) this.cw = this.mw;
    else if (this.di > 1) this.cw = Math.floor(this.cw / this.di) * this.di + 1;
  }

  /** The next destination index, or -1 when none is available. */
  next(weights: readonly number[], isAvailable: (index: number) => boolean): number {
    const n = weights.length;
    if (this.mw <= 0 || n === 0) return -1;
    const last = this.current;
    let index = this.current;
    let stop = -2;
    let lastPass = false;
    let restarted = false;
    for (;;) {
      for (index++; index < n; index++) {
        if ((weights[index] ?? 0) >= this.cw && isAvailable(index)) {
          this.current = index;
          return index;
        }
        if (index === stop) return this.fail(index);
      }
      index = -1;
      this.cw -= this.di;
      if (this.cw <= 0) {
        this.cw = this.mw;
        if (lastPass || last === -1) return this.fail(index);
        restarted = true;
      }
      lastPass = this.cw <= this.di;
      if (lastPass && restarted && last !== -1) stop = last;
    }
  }

  private fail(index: number): number {
    this.current = index;
    return -1;
  }
}

/** ip_vs_wrr's picks over one full cycle, as indices into `weights`, when nothing is overloaded. */
export function wrrCycle(weights: readonly number[]): number[] {
  const cursor = new WrrCursor(weights);
  const cycle: number[] = [];
  for (let i = 0, length = wrrCycleLength(weights); i < length; i++) {
    cycle.push(cursor.next(weights, () => true));
  }
  return cycle;
}

/** How many picks one cycle makes: per pass (cw = mw, mw − di, … > 0), the destinations with weight ≥ cw. */
function wrrCycleLength(weights: readonly number[]): number {
  const di = weights.reduce((g, weight) => (weight > 0 ? (g > 0 ? gcd(g, weight) : weight) : g), 0) || 1;
  const mw = Math.max(0, ...weights) - (di - 1);
  let length = 0;
  for (let cw = mw; cw > 0; cw -= di) for (const weight of weights) if (weight >= cw) length++;
  return length;
}
