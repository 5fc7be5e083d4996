import { readFileSync } from 'node:fs';
import { LineCounter, parseAllDocuments } from 'yaml';
import { KproxyError } from '../errors.js';
import type { EndpointSliceObject, ServiceObject } from '../model/k8s-objects.js';

export interface ManifestObjects {
  readonly services: ServiceObject[];
  readonly endpointSlices: EndpointSliceObject[];
}

/**
 * Reads Services and EndpointSlices from one multi-document YAML file (and from `kind: List`
 * documents). Other kinds are ignored, as a proxy would never see them.
 */
export function readManifestFile(path: string): ManifestObjects {
  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(readFileSync(path, 'utf8'), { lineCounter });
  const result: ManifestObjects = { services: [], endpointSlices: [] };
  for (const document of documents) {
    const firstError = document.errors[0];
    if (firstError) {
      const line = lineCounter.linePos(firstError.pos[0]).line;
      throw new KproxyError('KPROXY_E_MANIFEST', `${path}:${line}: ${firstError.message}`, {
        hint: 'fix the YAML syntax at that line',
      });
    }
    collectObjects(document.toJS(), result);
  }
  return result;
}

function collectObjects(value: unknown, into: ManifestObjects): void {
  if (typeof value !== 'object' || value === null) return;
  const object = value as { kind?: unknown; items?: unknown };
  if (object.kind === 'List' && Array.isArray(object.items)) {
    for (const item of object.items) collectObjects(item, into);
  } else if (object.kind === 'Service') {
    into.services.push(value as ServiceObject);
  } else if (object.kind === 'EndpointSlice') {
    into.endpointSlices.push(value as EndpointSliceObject);
  }
}
