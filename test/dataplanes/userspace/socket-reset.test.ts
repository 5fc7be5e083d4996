import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';

const child = fileURLToPath(new URL('./children/reset-after-fin.ts', import.meta.url));

it('resetting a connection that already sent its FIN closes it, and the process exits', () => {
  const result = spawnSync(process.execPath, ['--import', 'tsx', child], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(result.signal, null, 'the process hung and was killed');
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /closed/);
});
