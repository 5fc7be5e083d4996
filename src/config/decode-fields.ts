import { type Document, isAlias, isMap, isScalar, isSeq, type Node, type Pair } from 'yaml';
import { type ConfigProblem, childPath, type FieldLocations } from './config-error.js';
import { allowedFields, describe, expected, quoteAdvice, unknownFieldMessage } from './decode-messages.js';
import { nanosToMillis, parseGoDuration } from './go-duration.js';
import type { FieldSpec, LeafKind, StructSpec } from './schema.js';

/** A decoded value: only fields the document wrote (null means "not written"), already type-checked. */
export type RawValue =
  | string
  | number
  | boolean
  | readonly string[]
  | RawBoolMap
  | RawTree
  | readonly RawTree[];
export interface RawBoolMap {
  readonly [name: string]: boolean;
}
export interface RawTree {
  [field: string]: RawValue;
}

export interface DecodeContext {
  readonly document: Document;
  readonly lineOf: (node: Node | Pair['key']) => string;
  readonly problems: ConfigProblem[];
  readonly locations: FieldLocations;
}

const quantityPattern = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+|Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$/;

/** Decodes a mapping against a struct spec, as kube-proxy's strict decoding does: unknown keys are errors. */
export function decodeStruct(
  input: unknown,
  spec: StructSpec,
  path: string,
  context: DecodeContext,
): RawTree {
  const node = resolveAlias(input, context);
  const tree: RawTree = {};
  if (isNullNode(node)) return tree;
  if (!isMap(node)) {
    report(
      context,
      node,
      path,
      `must be a mapping of fields (${allowedFields(spec)}), got ${describe(node)}`,
    );
    return tree;
  }
  for (const pair of node.items) {
    const key = resolveAlias(pair.key, context);
    const name = isScalar(key) ? key.value : undefined;
    if (typeof name !== 'string') {
      report(context, key, path || '(document)', `field names must be strings, got ${describe(key)}`);
      continue;
    }
    const fieldPath = childPath(path, name);
    if (isScalar(key)) context.locations.set(fieldPath, context.lineOf(key));
    const fieldSpec = spec.fields[name];
    if (fieldSpec === undefined) {
      report(context, key, fieldPath, unknownFieldMessage(fieldPath, spec));
      continue;
    }
    const value = decodeField(pair.value, fieldSpec, fieldPath, context);
    if (value !== undefined) tree[name] = value;
  }
  return tree;
}

function decodeField(
  input: unknown,
  spec: FieldSpec,
  path: string,
  context: DecodeContext,
): RawValue | undefined {
  const node = resolveAlias(input, context);
  if (isNullNode(node)) return undefined;
  if (spec.kind === 'struct') return decodeStruct(node, spec, path, context);
  if (spec.kind === 'structList') {
    const items = listItems(node, path, 'a list of mappings', context);
    return items?.map((item, index) => decodeStruct(item, spec.item, `${path}[${index}]`, context));
  }
  if (spec.kind === 'stringList') {
    const items = listItems(node, path, 'a list of strings', context);
    return items?.flatMap((item, index) => {
      const value = decodeLeaf(item, 'string', `${path}[${index}]`, context);
      return typeof value === 'string' ? [value] : [];
    });
  }
  if (spec.kind === 'boolMap') return decodeBoolMap(node, path, context);
  return decodeLeaf(node, spec.kind, path, context);
}

function decodeBoolMap(node: unknown, path: string, context: DecodeContext): RawBoolMap | undefined {
  if (!isMap(node)) {
    report(context, node, path, `must be a mapping of feature names to true or false, got ${describe(node)}`);
    return undefined;
  }
  const gates: Record<string, boolean> = {};
  for (const pair of node.items) {
    const key = resolveAlias(pair.key, context);
    const name = isScalar(key) ? key.value : undefined;
    if (typeof name !== 'string' || !/^[A-Za-z][A-Za-z0-9]*$/.test(name)) {
      report(context, key, path, `feature names are words like NFTablesProxyMode, got ${describe(key)}`);
      continue;
    }
    const value = decodeLeaf(pair.value, 'bool', childPath(path, name), context);
    if (typeof value === 'boolean') gates[name] = value;
  }
  return gates;
}

function listItems(node: unknown, path: string, what: string, context: DecodeContext): unknown[] | undefined {
  if (!isSeq(node)) {
    report(context, node, path, `must be ${what}, got ${describe(node)}`);
    return undefined;
  }
  node.items.forEach((item, index) => {
    if (isScalar(item) || isMap(item) || isSeq(item))
      context.locations.set(`${path}[${index}]`, context.lineOf(item));
  });
  return node.items;
}

function decodeLeaf(
  input: unknown,
  kind: LeafKind,
  path: string,
  context: DecodeContext,
): RawValue | undefined {
  const node = resolveAlias(input, context);
  const value = isScalar(node) ? node.value : undefined;
  if (isNullNode(node)) return undefined;
  const decoded = isScalar(node) ? convertScalar(value, kind) : undefined;
  if (decoded === undefined) {
    report(
      context,
      node,
      path,
      `must be ${expected(kind)}, got ${describe(node)}${quoteAdvice(value, kind)}`,
    );
  }
  return decoded;
}

function convertScalar(value: unknown, kind: LeafKind): RawValue | undefined {
  switch (kind) {
    case 'string':
      return typeof value === 'string' ? value : undefined;
    case 'bool':
      return typeof value === 'boolean' ? value : undefined;
    case 'int32':
      return isIntegerIn(value, -(2 ** 31), 2 ** 31 - 1) ? value : undefined;
    case 'uint32':
      return isIntegerIn(value, 0, 2 ** 32 - 1) ? value : undefined;
    case 'float':
      return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
    case 'duration':
      return typeof value === 'string' ? parseGoDuration(value) : undefined;
    case 'durationOrNanos':
      if (isIntegerIn(value, 0, Number.MAX_SAFE_INTEGER)) return nanosToMillis(BigInt(value));
      return typeof value === 'string' ? parseGoDuration(value) : undefined;
    case 'quantity':
      if (isIntegerIn(value, 0, Number.MAX_SAFE_INTEGER)) return String(value);
      return typeof value === 'string' && quantityPattern.test(value) ? value : undefined;
    default:
      return undefined;
  }
}

function isIntegerIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

function report(context: DecodeContext, node: unknown, path: string, message: string): void {
  const where =
    isScalar(node) || isMap(node) || isSeq(node) ? context.lineOf(node) : context.locations.whereOf(path);
  context.problems.push({ where, path: path || '(document)', message });
}

function resolveAlias(node: unknown, context: DecodeContext): unknown {
  return isAlias(node) ? node.resolve(context.document) : node;
}

function isNullNode(node: unknown): boolean {
  return node === null || node === undefined || (isScalar(node) && node.value === null);
}
