/**
 * `npm run bench [name…]`: runs every `bench/*.bench.ts` (or the named ones) one after another,
 * each in its own process so one benchmark's heap and sockets never disturb the next. Each
 * benchmark prints its table and writes `bench/results/<name>.json`; docs/BENCHMARKS.md quotes them.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const benchDir = fileURLToPath(new URL('.', import.meta.url));
const wanted = process.argv.slice(2);
const all = readdirSync(benchDir)
  .filter((file) => file.endsWith('.bench.ts'))
  .sort();
const selected = wanted.length > 0 ? all.filter((file) => wanted.some((name) => file.startsWith(name))) : all;

let failed = 0;
for (const file of selected) {
  console.log(`\n### ${file}\n`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', `${benchDir}${file}`], { stdio: 'inherit' });
  if (result.status !== 0) {
    failed++;
    console.error(`${file} failed (exit ${result.status})`);
  }
}
process.exitCode = failed > 0 ? 1 : 0;
