import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('the compiled build the image runs', () => {
  it('is what the Dockerfile starts and the DaemonSet runs', () => {
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
    const entrypoint = /^ENTRYPOINT \["node", "([^"]+)"\]$/m.exec(dockerfile)?.[1];
    assert.equal(entrypoint, '/opt/kproxy/dist/cli/main.js');
    assert.match(dockerfile, /^COPY --from=build \/opt\/kproxy\/dist \.\/dist$/m);
    const [daemonSet] = parseAllDocuments(readFileSync(join(root, 'deploy/daemonset.yaml'), 'utf8')).map(
      (d) => d.toJS(),
    );
    assert.deepEqual(daemonSet.spec.template.spec.containers[0].command.slice(0, 2), ['node', entrypoint]);
  });

  it('builds with `npm run build` and runs without a TypeScript loader', () => {
    // Inside the repository, so that the compiled files find node_modules as dist/ would.
    const outDir = mkdtempSync(join(root, '.build-check-'));
    try {
      execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', outDir], { cwd: root });
      const help = execFileSync(process.execPath, [join(outDir, 'cli/main.js'), 'run', '--help'], {
        encoding: 'utf8',
      });
      assert.match(help, /--proxy-mode/);
      const rules = execFileSync(
        process.execPath,
        [
          join(outDir, 'cli/main.js'),
          'rules',
          '--mode',
          'nftables',
          '--config',
          join(root, 'examples/config/nftables-dual-stack.yaml'),
          '--manifests',
          join(root, 'examples/seed/nginx.yaml'),
        ],
        { encoding: 'utf8' },
      );
      assert.match(rules, /table ip kproxy/);
    } finally {
      rmSync(outDir, { recursive: true, force: true });
    }
  });
});
