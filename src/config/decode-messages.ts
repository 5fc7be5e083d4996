import { isMap, isScalar, isSeq } from 'yaml';
import { goDurationHint } from './go-duration.js';
import { type LeafKind, removedFields, type StructSpec } from './schema.js';

/** The words of decoding errors: what a field expects, and the likely typo behind an unknown field. */

export function expected(kind: LeafKind): string {
  const descriptions: Record<LeafKind, string> = {
    string: 'a string',
    bool: 'true or false',
    int32: 'a whole number (32-bit)',
    uint32: 'a whole number ≥ 0',
    float: 'a number',
    duration: goDurationHint,
    durationOrNanos: `${goDurationHint}, or a whole number of nanoseconds`,
    quantity: 'a quantity such as 0, 4096, 64Ki or 1Mi',
    stringList: 'a list of strings',
    boolMap: 'a mapping of names to true or false',
  };
  return descriptions[kind];
}

export function quoteAdvice(value: unknown, kind: LeafKind): string {
  if (kind === 'string' && (typeof value === 'number' || typeof value === 'boolean')) {
    return ` (quote it: "${String(value)}")`;
  }
  if ((kind === 'duration' || kind === 'durationOrNanos') && typeof value === 'number') {
    return ` (a bare number has no unit; write "${value}s" for seconds)`;
  }
  return '';
}

export function unknownFieldMessage(path: string, spec: StructSpec): string {
  const removed = removedFields.get(path);
  if (removed)
    return `unknown field (kube-proxy decodes strictly); no longer part of KubeProxyConfiguration v1alpha1: ${removed}`;
  const name = path.slice(path.lastIndexOf('.') + 1);
  const near = Object.keys(spec.fields).find((field) => isNearMiss(name, field));
  const suggestion = near ? `did you mean ${near}? ` : '';
  return `unknown field (kube-proxy decodes strictly); ${suggestion}${allowedFields(spec)}`;
}

/** Same letters in another case, or one or two letters off: a likely typo of `field`. */
function isNearMiss(name: string, field: string): boolean {
  const a = name.toLowerCase();
  const b = field.toLowerCase();
  if (a === b) return true;
  if (Math.abs(a.length - b.length) > 2 || Math.min(a.length, b.length) < 4) return false;
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(substitution, (previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1));
    }
    previous = current;
  }
  return (previous[b.length] ?? 3) <= 2;
}

export function allowedFields(spec: StructSpec): string {
  return `allowed: ${Object.keys(spec.fields).join(', ')}`;
}

/** A short description of what the document holds at a node, for error messages. */
export function describe(node: unknown): string {
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (!isScalar(node)) return 'nothing';
  const shown = typeof node.value === 'string' ? JSON.stringify(node.value) : String(node.value);
  return shown.length > 60 ? `${shown.slice(0, 57)}...` : shown;
}
