import { readFileSync } from 'node:fs';
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
import { parseYamlDocuments } from './yaml-documents.js';

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
  const parsed: ParsedManifest = { objects: [], errors: [] };
  for (const document of parseYamlDocuments(text)) {
    if (!document.ok) {
      parsed.errors.push(
        new KproxyError('KPROXY_E_MANIFEST', `${path}:${document.line}: ${document.message}`, {
          hint: 'fix the YAML syntax at that line; the other documents are still used',
        }),
      );
      continue;
    }
    collectDocument(document.value, { path, line: document.line, itemLines: document.itemLines }, parsed);
  }
  return parsed;
}

interface DocumentPlace {
  readonly path: string;
  readonly line: number;
  readonly itemLines: readonly number[];
}

function collectDocument(value: unknown, place: DocumentPlace, into: ParsedManifest): void {
  if (value === null || value === undefined) return;
  if (isRecord(value) && value.kind === 'List') {
    const items = Array.isArray(value.items) ? value.items : [];
    const lines = place.itemLines.length === items.length ? place.itemLines : undefined;
    items.forEach((item, i) => {
      const line = lines?.[i] ?? place.line;
      collectObject(item, lines ? `${place.path}:${line}` : `${place.path}:${line}: items[${i}]`, line, into);
    });
    return;
  }
  if (!isRecord(value)) {
    into.errors.push(
      new KproxyError(
        'KPROXY_E_MANIFEST',
        `${place.path}:${place.line}: not a Kubernetes object (a YAML mapping)`,
        {
          hint: 'each document must be an object with apiVersion and kind',
        },
      ),
    );
    return;
  }
  collectObject(value, `${place.path}:${place.line}`, place.line, into);
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
