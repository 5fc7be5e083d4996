import { type Document, isMap, isScalar, isSeq } from 'yaml';

/**
 * The field path of the deepest field whose text spans `offset` (e.g. `iptables.syncPeriod`), so a YAML
 * syntax error still names the field it broke; `(document)` when the offset is outside every field.
 */
export function fieldPathAt(document: Document, offset: number): string {
  const names: string[] = [];
  let node: unknown = document.contents;
  for (let depth = 0; depth < 64; depth++) {
    const child = childSpanning(node, offset);
    if (!child) break;
    names.push(child.name);
    node = child.node;
  }
  return names.length === 0 ? '(document)' : names.join('.').replace(/\.\[/g, '[');
}

function childSpanning(node: unknown, offset: number): { name: string; node: unknown } | undefined {
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? pair.key : undefined;
      const value = pair.value as { range?: [number, number, number] } | null;
      const start = key?.range?.[0];
      const end = value?.range?.[2] ?? key?.range?.[2];
      if (key && start !== undefined && end !== undefined && start <= offset && offset <= end) {
        return { name: String(key.value) || '""', node: pair.value };
      }
    }
  }
  if (isSeq(node)) {
    const index = node.items.findIndex((item) => {
      const range = (item as { range?: [number, number, number] } | null)?.range;
      return range !== undefined && range[0] <= offset && offset <= range[2];
    });
    if (index >= 0) return { name: `[${index}]`, node: node.items[index] };
  }
  return undefined;
}
