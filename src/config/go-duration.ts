/**
 * Go's time.Duration text, as kube-proxy's metav1.Duration reads and writes it: `30s`, `1h0m0s`,
 * `1.5ms`, `-2m`, `0`. kproxy keeps durations as milliseconds (fractions keep nanoseconds).
 */

const nanosPerUnit: ReadonlyMap<string, bigint> = new Map([
  ['ns', 1n],
  ['us', 1_000n],
  ['\u00b5s', 1_000n],
  ['\u03bcs', 1_000n],
  ['ms', 1_000_000n],
  ['s', 1_000_000_000n],
  ['m', 60_000_000_000n],
  ['h', 3_600_000_000_000n],
]);

const maxNanos = (1n << 63n) - 1n;
const nanosPerMilli = 1_000_000n;

/** What a Go duration may look like, for error messages. */
export const goDurationHint =
  'a Go duration such as 30s, 1m30s, 1h0m0s, 500ms or 0s (units ns, us, ms, s, m, h)';

/** Parses like Go's time.ParseDuration; returns undefined for anything Go rejects. */
export function parseGoDurationNanos(text: string): bigint | undefined {
  let rest = text;
  let negative = false;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    negative = rest.startsWith('-');
    rest = rest.slice(1);
  }
  if (rest === '0') return 0n;
  if (rest === '') return undefined;
  let total = 0n;
  while (rest !== '') {
    const match = /^(\d*)(?:\.(\d*))?([^\d.]*)/.exec(rest);
    const [whole = '', intPart = '', fraction = '', unit = ''] = match ?? [];
    if (whole === '' || (intPart === '' && fraction === '')) return undefined;
    const scale = nanosPerUnit.get(unit);
    if (scale === undefined) return undefined;
    total += BigInt(intPart || '0') * scale;
    if (fraction !== '') total += (BigInt(fraction) * scale) / 10n ** BigInt(fraction.length);
    if (total > maxNanos + (negative ? 1n : 0n)) return undefined;
    rest = rest.slice(whole.length);
  }
  return negative ? -total : total;
}

/** A Go duration as milliseconds, or undefined when Go would reject the text. */
export function parseGoDuration(text: string): number | undefined {
  const nanos = parseGoDurationNanos(text);
  return nanos === undefined ? undefined : nanosToMillis(nanos);
}

export function nanosToMillis(nanos: bigint): number {
  return Number(nanos / nanosPerMilli) + Number(nanos % nanosPerMilli) / 1e6;
}

export function millisToNanos(millis: number): bigint {
  const nanos = millis * 1e6;
  if (Math.abs(nanos) < Number.MAX_SAFE_INTEGER) return BigInt(Math.round(nanos));
  return BigInt(Math.round(millis)) * nanosPerMilli;
}

/** Formats milliseconds the way Go's Duration.String() does: 0s, 500ms, 30s, 1m30s, 1h0m0s. */
export function formatGoDuration(millis: number): string {
  const nanos = millisToNanos(millis);
  if (nanos === 0n) return '0s';
  const sign = nanos < 0n ? '-' : '';
  const size = nanos < 0n ? -nanos : nanos;
  if (size < 1_000n) return `${sign}${size}ns`;
  if (size < 1_000_000n) return `${sign}${withFraction(size, 1_000n)}\u00b5s`;
  if (size < 1_000_000_000n) return `${sign}${withFraction(size, 1_000_000n)}ms`;
  const seconds = withFraction(size % 60_000_000_000n, 1_000_000_000n);
  const totalMinutes = size / 60_000_000_000n;
  if (totalMinutes === 0n) return `${sign}${seconds}s`;
  const hours = totalMinutes / 60n;
  const minutes = totalMinutes % 60n;
  return hours === 0n ? `${sign}${minutes}m${seconds}s` : `${sign}${hours}h${minutes}m${seconds}s`;
}

/** `value / unit` as a decimal without trailing zeros, e.g. 1500000 / 1000000 = "1.5". */
function withFraction(value: bigint, unit: bigint): string {
  const whole = value / unit;
  const fraction = value % unit;
  if (fraction === 0n) return `${whole}`;
  const digits = fraction
    .toString()
    .padStart(unit.toString().length - 1, '0')
    .replace(/0+$/, '');
  return `${whole}.${digits}`;
}
