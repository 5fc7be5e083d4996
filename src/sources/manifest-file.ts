import { readFileSync } from 'node:fs';
import { type Document, isMap, isSeq, LineCounter, parseAllDocuments } from 'yaml';
import { KproxyError } from '../errors.js';
import { describeRawName, formatFieldErrors } from '../model/decode-metadata.js';
import {
  decodeObject,
  keyOf,
  type ProxiedKind,
  type ProxiedObject,
  proxiedKind,
} from '../model/decode-object.js';
import { isRecord } from '../model/field-reader.js';
import type { EndpointSliceObject, ServiceObject } from '../model/k8s-objects.js';

export interface ManifestObjects {
  readonly services: ServiceObject[];
  readonly endpointSlices: EndpointSliceObject[];
}

/** One valid object of a manifest file, with the line it starts on. */
export interface LocatedObject {
  readonly kind: ProxiedKind;
  readonly key: string;
  readonly object: ProxiedObject;
  readonly line: number;
}

export interface ParsedManifest {
  readonly objects: LocatedObject[];
  /** One KPROXY_E_MANIFEST per broken document or invalid object, naming file:line and the field. */
  readonly errors: KproxyError[];
}

const FIX_HINT = 'fix that field; the other objects in the file are still used';

/**
 * Parses multi-document YAML (or JSON) holding Services, EndpointSlices and Nodes, directly or
 * in `kind: List` documents. Other kinds are ignored, as a proxy never sees them. A broken
 * document or invalid object becomes an error and is skipped; the rest is returned.
 */
export function parseManifestText(text: string, path: string): ParsedManifest {
  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(text, { lineCounter, uniqueKeys: true });
  const parsed: ParsedManifest = { objects: [], errors: [] };
  const lineOf = (offset: number | undefined) => lineCounter.linePos(offset ?? 0).line;
  for (const document of Array.isArray(documents) ? documents : [documents]) {
    const firstError = document.errors[0];
    if (firstError) {
      parsed.errors.push(
        new KproxyError('KPROXY_E_MANIFEST', `${path}:${lineOf(firstError.pos[0])}: ${firstError.message}`, {
          hint: 'fix the YAML syntax at that line; the other documents are still used',
        }),
      );
      continue;
    }
    collectDocument(document, path, lineOf, parsed);
  }
  return parsed;
}

function collectDocument(
  document: Document.Parsed,
  path: string,
  lineOf: (offset: number | undefined) => number,
  into: ParsedManifest,
): void {
  const docLine = lineOf(document.contents?.range?.[0]);
  let value: unknown;
  try {
    // Aliases are resolved here: an undefined one, or too many (an "alias bomb"), is an error.
    value = document.toJS({ maxAliasCount: 100 });
  } catch (error) {
    into.errors.push(
      new KproxyError('KPROXY_E_MANIFEST', `${path}:${docLine}: ${(error as Error).message}`, {
        hint: 'fix the YAML anchors and aliases (&name, *name) in this document',
      }),
    );
    return;
  }
  if (value === null || value === undefined) return;
  if (isRecord(value) && value.kind === 'List') {
    const items = document.get('items', true);
    const nodes = isSeq(items) ? items.items : [];
    const list = Array.isArray(value.items) ? value.items : [];
    list.forEach((item, i) => {
      const node = nodes[i];
      const line = isMap(node) ? lineOf(node.range?.[0]) : docLine;
      collectObject(item, `${path}:${line}`, line, into);
    });
    return;
  }
  if (!isRecord(value)) {
    into.errors.push(
      new KproxyError('KPROXY_E_MANIFEST', `${path}:${docLine}: not a Kubernetes object (a YAML mapping)`, {
        hint: 'each document must be an object with apiVersion and kind',
      }),
    );
    return;
  }
  collectObject(value, `${path}:${docLine}`, docLine, into);
}

function collectObject(raw: unknown, where: string, line: number, into: ParsedManifest): void {
  const kind = proxiedKind(raw);
  if (!kind) return;
  const result = decodeObject(kind, raw);
  if (result.ok) {
    into.objects.push({ kind, key: keyOf(result.object), object: result.object, line });
    return;
  }
  into.errors.push(
    new KproxyError(
      'KPROXY_E_MANIFEST',
      `${where}: ${kind} ${describeRawName(raw)}: ${formatFieldErrors(result.errors)}`,
      { hint: FIX_HINT },
    ),
  );
}

/**
 * Reads the Services and EndpointSlices of one file, failing on its first broken document or
 * invalid object (for one-shot commands that need every object right).
 */
export function readManifestFile(path: string): ManifestObjects {
  const parsed = parseManifestText(readFileSync(path, 'utf8'), path);
  const firstError = parsed.errors[0];
  if (firstError) throw firstError;
  const result: ManifestObjects = { services: [], endpointSlices: [] };
  for (const { object } of parsed.objects) {
    if (object.kind === 'Service') result.services.push(object);
    else if (object.kind === 'EndpointSlice') result.endpointSlices.push(object);
  }
  return result;
}
