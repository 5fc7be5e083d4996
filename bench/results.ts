import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

/** Writes a benchmark's results, with the machine they were measured on, to bench/results/<name>.json. */
export function writeBenchResults(name: string, results: unknown): void {
  const dir = new URL('./results/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  };
  const record = { name, date: new Date().toISOString(), machine, results };
  writeFileSync(new URL(`${name}.json`, dir), `${JSON.stringify(record, null, 2)}\n`);
}
