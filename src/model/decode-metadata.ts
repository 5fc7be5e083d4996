import {
  type FieldError,
  type FieldReader,
  isRecord,
  quoteValue,
  type UnknownRecord,
} from './field-reader.js';
import type { ObjectMeta } from './k8s-objects.js';
import { type Check, isDns1123Label } from './validation.js';

export type DecodeResult<T> =
  | { readonly ok: true; readonly object: T }
  | { readonly ok: false; readonly errors: readonly FieldError[] };

/** Reads `metadata`: the name by `nameRule`, the namespace as a DNS-1123 label ("default" when unset). */
export function readMetadata(
  reader: FieldReader,
  raw: UnknownRecord,
  nameRule: Check,
  namespaced: boolean,
): ObjectMeta | undefined {
  const meta = reader.record(raw, 'metadata', 'metadata');
  if (!meta) {
    reader.required('metadata.name');
    return undefined;
  }
  const name = reader.string(meta, 'name', 'metadata.name', nameRule);
  if (name === undefined && meta.name === undefined) reader.required('metadata.name');
  const namespace = namespaced
    ? (reader.string(meta, 'namespace', 'metadata.namespace', isDns1123Label) ?? 'default')
    : undefined;
  const labels = reader.stringMap(meta, 'labels', 'metadata.labels');
  const annotations = reader.stringMap(meta, 'annotations', 'metadata.annotations');
  const resourceVersion = typeof meta.resourceVersion === 'string' ? meta.resourceVersion : undefined;
  if (name === undefined) return undefined;
  return { name, namespace, labels, annotations, resourceVersion };
}

export function finish<T>(reader: FieldReader, object: T | undefined): DecodeResult<T> {
  if (reader.errors.length > 0 || object === undefined) {
    return {
      ok: false,
      errors: reader.errors.length > 0 ? reader.errors : [{ path: '', detail: 'invalid' }],
    };
  }
  return { ok: true, object };
}

/** `ns/name` of a raw object for messages, escaped; `?` where the field is missing. */
export function describeRawName(raw: unknown): string {
  const meta = isRecord(raw) && isRecord(raw.metadata) ? raw.metadata : {};
  const part = (value: unknown, fallback: string) =>
    typeof value === 'string' && /^[a-z0-9.-]{1,253}$/.test(value) ? value : quoteValue(value ?? fallback);
  const name = part(meta.name, '?');
  return meta.namespace === undefined ? name : `${part(meta.namespace, '?')}/${name}`;
}

/** Formats field errors the way the API server does: `path: detail; path: detail`. */
export function formatFieldErrors(errors: readonly FieldError[]): string {
  return errors.map((error) => (error.path ? `${error.path}: ${error.detail}` : error.detail)).join('; ');
}

export function notAnObject(): { readonly ok: false; readonly errors: readonly FieldError[] } {
  return { ok: false, errors: [{ path: '', detail: 'must be an object' }] };
}
