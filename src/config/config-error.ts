import { KproxyError } from '../errors.js';

/** One thing wrong with a configuration: where (file:line or a flag), which field, what is allowed. */
export interface ConfigProblem {
  /** `path/to/file.yaml:12`, or `flag --proxy-mode`. */
  readonly where: string;
  /** The field path, e.g. `iptables.masqueradeBit`, `nodePortAddresses[1]`; `(document)` for the whole file. */
  readonly path: string;
  readonly message: string;
}

export function describeProblem(problem: ConfigProblem): string {
  return `${problem.where}: ${problem.path}: ${problem.message}`;
}

/** Every problem of one configuration at once (code KPROXY_E_CONFIG), so a user fixes them in one go. */
export class ConfigError extends KproxyError {
  readonly problems: readonly ConfigProblem[];

  constructor(source: string, problems: readonly ConfigProblem[]) {
    const lines = [...problems].sort(byLine).map(describeProblem);
    const message =
      lines.length === 1
        ? `invalid KubeProxyConfiguration: ${lines[0]}`
        : `invalid KubeProxyConfiguration ${source}: ${lines.length} problems\n  ${lines.join('\n  ')}`;
    super('KPROXY_E_CONFIG', message, {
      hint: 'fix each field named above; docs/configuration.md lists every field, its default and what it accepts',
    });
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** File lines in order; problems that came from flags after them. */
function byLine(a: ConfigProblem, b: ConfigProblem): number {
  const line = (problem: ConfigProblem) =>
    Number(/:(\d+)$/.exec(problem.where)?.[1] ?? Number.POSITIVE_INFINITY);
  return line(a) - line(b);
}

/**
 * Where each field of a configuration came from: the line of the file, or the flag that set it.
 * A field nobody wrote (a default) is reported at its nearest written parent, else the file itself.
 */
export class FieldLocations {
  readonly #byPath = new Map<string, string>();

  constructor(readonly fallback: string) {}

  set(path: string, where: string): void {
    this.#byPath.set(path, where);
  }

  /** Where `path` was written; for a field nobody wrote, where `related` (the field that needs it) was. */
  whereOf(path: string, related?: string): string {
    for (let current = path; current !== ''; current = parentPath(current)) {
      const where = this.#byPath.get(current);
      if (where !== undefined) return where;
    }
    return related === undefined ? this.fallback : this.whereOf(related);
  }
}

/** `a.b[2]` → `a.b`, `a.b` → `a`, `a` → ``. */
export function parentPath(path: string): string {
  const cut = Math.max(path.lastIndexOf('.'), path.lastIndexOf('['));
  return cut < 0 ? '' : path.slice(0, cut);
}

export function childPath(parent: string, name: string): string {
  return parent === '' ? name : `${parent}.${name}`;
}
