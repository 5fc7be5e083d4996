import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The whole project (src, test fixtures, bench) compiled to JavaScript in a temporary directory
 * inside the repository, so that its files find node_modules: for measuring processes as the
 * image runs them, without a TypeScript loader. `path(relative)` names a compiled file.
 */
export interface CompiledBuild {
  path(relative: string): string;
  remove(): void;
}

export function compileProject(): CompiledBuild {
  const outDir = mkdtempSync(join(root, '.build-check-'));
  execFileSync(
    'npx',
    ['tsc', '-p', 'tsconfig.json', '--noEmit', 'false', '--outDir', outDir, '--rootDir', '.'],
    {
      cwd: root,
    },
  );
  return {
    path: (relative) => join(outDir, relative.replace(/\.ts$/, '.js')),
    remove: () => rmSync(outDir, { recursive: true, force: true }),
  };
}
