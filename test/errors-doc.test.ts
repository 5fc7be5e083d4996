import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { errorCodes } from '../src/errors.js';

it('docs/errors.md documents exactly the codes src/errors.ts defines', () => {
  const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
  const documented = [...doc.matchAll(/^### (KPROXY_E_\w+)$/gm)].map((match) => match[1]).sort();
  assert.deepEqual(documented, Object.keys(errorCodes).sort());
});
