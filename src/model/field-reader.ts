/**
 * Reads an untyped object (parsed YAML or JSON from the API) field by field, checking each value's
 * type and rule, and collects every problem with its field path (`spec.ports[1].name`), as the
 * API server reports them. Values are quoted with JSON.stringify, so a newline or a quote in a bad
 * value never reaches a log or a terminal unescaped.
 */
import type { Check } from './validation.js';

export interface FieldError {
  readonly path: string;
  readonly detail: string;
}

export type UnknownRecord = Record<string, unknown>;

export function isRecord(value: unknown): value is UnknownRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A short, escaped rendering of a bad value for an error message. */
export function quoteValue(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export class FieldReader {
  readonly errors: FieldError[] = [];

  invalid(path: string, value: unknown, detail: string): void {
    this.errors.push({ path, detail: `Invalid value: ${quoteValue(value)}: ${detail}` });
  }

  required(path: string): void {
    this.errors.push({ path, detail: 'Required value' });
  }

  record(parent: UnknownRecord, key: string, path: string): UnknownRecord | undefined {
    const value = parent[key];
    if (value === undefined || value === null) return undefined;
    if (isRecord(value)) return value;
    this.invalid(path, value, 'must be an object');
    return undefined;
  }

  list(parent: UnknownRecord, key: string, path: string, max = 10_000): unknown[] {
    const value = parent[key];
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) {
      this.invalid(path, value, 'must be a list');
      return [];
    }
    if (value.length > max) {
      this.errors.push({ path, detail: `Too many: ${value.length}: must have at most ${max} items` });
      return [];
    }
    return value;
  }

  string(parent: UnknownRecord, key: string, path: string, check?: Check): string | undefined {
    const value = parent[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') {
      this.invalid(path, value, 'must be a string');
      return undefined;
    }
    const problem = check?.(value);
    if (problem) {
      this.invalid(path, value, problem);
      return undefined;
    }
    return value;
  }

  /** A string from a fixed set (`type`, `protocol`, a traffic policy). */
  oneOf<T extends string>(
    parent: UnknownRecord,
    key: string,
    path: string,
    allowed: readonly T[],
  ): T | undefined {
    const value = parent[key];
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
    this.errors.push({
      path,
      detail: `Unsupported value: ${quoteValue(value)}: supported values: ${allowed.map((a) => `"${a}"`).join(', ')}`,
    });
    return undefined;
  }

  integer(parent: UnknownRecord, key: string, path: string, check: (n: number) => string | undefined) {
    const value = parent[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      this.invalid(path, value, 'must be an integer');
      return undefined;
    }
    const problem = check(value);
    if (problem) {
      this.invalid(path, value, problem);
      return undefined;
    }
    return value;
  }

  boolean(parent: UnknownRecord, key: string, path: string): boolean | undefined {
    const value = parent[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'boolean') return value;
    this.invalid(path, value, 'must be true or false');
    return undefined;
  }

  /** A list of strings, each checked; bad entries are reported and dropped. */
  strings(parent: UnknownRecord, key: string, path: string, check: Check, max = 100): string[] {
    const result: string[] = [];
    this.list(parent, key, path, max).forEach((item, i) => {
      const value = this.string({ item }, 'item', `${path}[${i}]`, check);
      if (value !== undefined) result.push(value);
    });
    return result;
  }

  /** labels / annotations: string to string; the values are checked by whoever reads them. */
  stringMap(parent: UnknownRecord, key: string, path: string): Record<string, string> | undefined {
    const map = this.record(parent, key, path);
    if (!map) return undefined;
    const result: Record<string, string> = {};
    for (const [name, value] of Object.entries(map)) {
      if (typeof value === 'string') result[name] = value;
      else this.invalid(`${path}[${quoteValue(name)}]`, value, 'must be a string');
    }
    return result;
  }
}
