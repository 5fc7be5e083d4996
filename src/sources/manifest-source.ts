/**
 * Manifest files and directories as a source: read once, then watched. A change to a file is
 * re-read after a short debounce; objects it adds, changes or no longer holds become events. A
 * file with a broken document keeps every object it held before (the broken one may have been
 * one of them): only a file that parses cleanly can delete objects.
 */
import { createHash } from 'node:crypto';
import { type FSWatcher, readdirSync, readFileSync, statSync, watch } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { KproxyError } from '../errors.js';
import type { ProxiedObject } from '../model/decode-object.js';
import { type LocatedObject, parseManifestText } from './manifest-file.js';
import { deliver, type ObjectSource, type SourceHandler } from './source.js';

const MANIFEST_FILE = /\.(ya?ml|json)$/;

export interface ManifestSourceOptions {
  /** Files or directories (a directory's *.yaml, *.yml and *.json files, not recursive). */
  readonly paths: readonly string[];
  readonly watch?: boolean;
  readonly debounceMs?: number;
}

interface FileState {
  /** Modification time and size: a file whose stamp is unchanged is not even read again. */
  stamp: string;
  /** A digest of the file's text: a file touched but unchanged is not parsed again. */
  digest: string;
  /** Objects by `Kind/key`, with the line where each is defined. */
  objects: Map<string, LocatedObject>;
}

export class ManifestSource implements ObjectSource {
  readonly description: string;
  private readonly files = new Map<string, FileState>();
  /** Which file defines each object, so a second definition elsewhere is refused, not silently merged. */
  private readonly owners = new Map<string, string>();
  /** A file whose copy of an object was refused; it takes over when the owner drops the object. */
  private readonly refused = new Map<string, string>();
  private readonly watchers: FSWatcher[] = [];
  private handler: SourceHandler | undefined;
  private debounce: NodeJS.Timeout | undefined;

  constructor(private readonly options: ManifestSourceOptions) {
    this.description = options.paths.join(',');
  }

  async start(handler: SourceHandler): Promise<void> {
    this.handler = handler;
    const files = this.listFiles();
    for (const file of files) this.loadFile(file);
    handler.synced();
    if (this.options.watch) this.watchPaths();
  }

  async stop(): Promise<void> {
    clearTimeout(this.debounce);
    for (const watcher of this.watchers) watcher.close();
    this.watchers.length = 0;
  }

  /** Re-reads every file now (what a watch event triggers after the debounce). */
  rescan(): void {
    const present = new Set(this.listFiles());
    for (const file of [...this.files.keys()]) {
      if (!present.has(file)) this.forgetFile(file);
    }
    for (const file of present) this.loadFile(file);
  }

  private listFiles(): string[] {
    const files: string[] = [];
    for (const path of this.options.paths) {
      const full = resolve(path);
      let stats: ReturnType<typeof statSync>;
      try {
        stats = statSync(full);
      } catch (error) {
        throw new KproxyError(
          'KPROXY_E_MANIFEST',
          `${path}: cannot read manifests: ${(error as Error).message}`,
          {
            hint: 'pass an existing file or directory to --manifests',
            cause: error,
          },
        );
      }
      if (!stats.isDirectory()) files.push(full);
      else {
        const names = readdirSync(full)
          .filter((name) => MANIFEST_FILE.test(name))
          .sort();
        files.push(...names.map((name) => join(full, name)));
      }
    }
    return files;
  }

  private loadFile(file: string): void {
    const before = this.files.get(file);
    let text: string;
    let stamp: string;
    try {
      const stats = statSync(file);
      stamp = `${stats.mtimeMs}:${stats.size}`;
      if (before?.stamp === stamp) return;
      text = readFileSync(file, 'utf8');
    } catch {
      this.forgetFile(file); // removed between listing and reading
      return;
    }
    const digest = createHash('sha256').update(text).digest('base64');
    if (before?.digest === digest) {
      before.stamp = stamp;
      return;
    }
    const parsed = parseManifestText(text, file);
    const objects = new Map<string, LocatedObject>();
    for (const located of parsed.objects) {
      const id = `${located.kind}/${located.key}`;
      const owner = this.owners.get(id);
      if ((owner !== undefined && owner !== file) || objects.has(id)) {
        parsed.errors.push(duplicateError(file, located, owner ?? file));
        if (owner !== undefined && owner !== file) this.refused.set(id, file);
        continue;
      }
      objects.set(id, located);
    }
    for (const error of parsed.errors) this.handler?.problem(error);
    if (parsed.errors.length > 0 && before) {
      // Keep the last good version of whatever the broken documents may have defined.
      for (const [id, located] of before.objects) if (!objects.has(id)) objects.set(id, located);
    }
    this.applyFile(file, before?.objects ?? new Map(), objects);
    this.files.set(file, { stamp, digest, objects });
  }

  private forgetFile(file: string): void {
    const before = this.files.get(file);
    if (!before) return;
    this.applyFile(file, before.objects, new Map());
    this.files.delete(file);
  }

  private applyFile(
    file: string,
    before: Map<string, LocatedObject>,
    after: Map<string, LocatedObject>,
  ): void {
    const handovers = new Set<string>();
    for (const [id, located] of before) {
      if (after.has(id)) continue;
      this.owners.delete(id);
      this.emit(located, undefined);
      const waiting = this.refused.get(id);
      this.refused.delete(id);
      if (waiting !== undefined && waiting !== file) handovers.add(waiting);
    }
    for (const [id, located] of after) {
      this.owners.set(id, file);
      if (before.get(id)?.object !== located.object) this.emit(located, located.object);
    }
    for (const other of handovers) this.reload(other);
  }

  /** Parses a file again even if unchanged (its refused copy of an object may now be the only one). */
  private reload(file: string): void {
    const state = this.files.get(file);
    if (state) {
      state.stamp = '';
      state.digest = '';
    }
    this.loadFile(file);
  }

  private emit(located: LocatedObject, object: ProxiedObject | undefined): void {
    if (this.handler) deliver(this.handler, located.kind, located.key, object);
  }

  private watchPaths(): void {
    const directories = new Set(
      this.options.paths.map((path) => {
        const full = resolve(path);
        return statSync(full).isDirectory() ? full : dirname(full);
      }),
    );
    for (const directory of directories) {
      const watcher = watch(directory, () => this.scheduleRescan());
      watcher.on('error', (error) =>
        this.handler?.problem(
          new KproxyError('KPROXY_E_MANIFEST', `${directory}: watching stopped: ${error.message}`, {
            cause: error,
          }),
        ),
      );
      this.watchers.push(watcher);
    }
  }

  private scheduleRescan(): void {
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      try {
        this.rescan();
      } catch (error) {
        if (error instanceof KproxyError) this.handler?.problem(error);
        else throw error;
      }
    }, this.options.debounceMs ?? 100);
  }
}

function duplicateError(file: string, located: LocatedObject, owner: string): KproxyError {
  const first = owner === file ? 'earlier in the same file' : `in ${owner}`;
  return new KproxyError(
    'KPROXY_E_MANIFEST',
    `${file}:${located.line}: ${located.kind} ${located.key} is already defined ${first}; this copy is ignored`,
    { hint: 'define each object once' },
  );
}
