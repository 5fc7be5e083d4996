import type { RawBoolMap, RawTree, RawValue } from './decode-fields.js';

/**
 * Typed reads from a decoded tree by dotted path. The decoder has already checked each value's type
 * against the schema, so a read of the wrong type only happens for a field nobody wrote.
 */
export class RawTreeReader {
  constructor(private readonly tree: RawTree) {}

  string(path: string): string {
    const value = this.at(path);
    return typeof value === 'string' ? value : '';
  }

  /** undefined when not written (or null): kube-proxy's nil pointer. */
  number(path: string): number | undefined {
    const value = this.at(path);
    return typeof value === 'number' ? value : undefined;
  }

  bool(path: string): boolean | undefined {
    const value = this.at(path);
    return typeof value === 'boolean' ? value : undefined;
  }

  strings(path: string): readonly string[] {
    const value = this.at(path);
    return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
  }

  boolMap(path: string): RawBoolMap {
    const value = this.at(path);
    return isTree(value) ? (value as RawBoolMap) : {};
  }

  trees(path: string): readonly RawTreeReader[] {
    const value = this.at(path);
    return Array.isArray(value) ? value.filter(isTree).map((item) => new RawTreeReader(item)) : [];
  }

  private at(path: string): RawValue | undefined {
    let value: RawValue | undefined = this.tree;
    for (const name of path.split('.')) {
      value = isTree(value) ? value[name] : undefined;
    }
    return value;
  }
}

function isTree(value: unknown): value is RawTree {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Sets a dotted path in a tree, creating the structs on the way (used to lay flags over a file). */
export function setRawValue(tree: RawTree, path: string, value: RawValue): void {
  const names = path.split('.');
  const last = names.pop() ?? path;
  let node = tree;
  for (const name of names) {
    const next = node[name];
    if (!isTree(next)) node[name] = {};
    node = node[name] as RawTree;
  }
  node[last] = value;
}
