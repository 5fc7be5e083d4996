import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { ConfigError, type ConfigProblem } from '../../src/config/config-error.js';
import { type EffectiveConfig, resolveEffectiveConfig } from '../../src/config/effective-config.js';

const directory = mkdtempSync(join(tmpdir(), 'kproxy-config-test-'));
after(() => rmSync(directory, { recursive: true, force: true }));
let written = 0;

/** Writes text to a fresh file in a private temporary directory and returns its path. */
export function writeConfig(text: string, name = `config-${++written}.yaml`): string {
  const path = join(directory, name);
  writeFileSync(path, text);
  return path;
}

export const header = 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n';

/** Loads header + body (as a file) with optional flags. */
export function resolveText(body: string, flags: Record<string, unknown> = {}): EffectiveConfig {
  return resolveEffectiveConfig({ configPath: writeConfig(header + body), flags });
}

/** The problems a configuration is rejected with; fails when it is accepted. */
export function problemsOf(
  body: string,
  flags: Record<string, unknown> = {},
  raw = false,
): readonly ConfigProblem[] {
  const path = writeConfig(raw ? body : header + body);
  try {
    resolveEffectiveConfig({ configPath: path, flags });
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    assert.equal(error.code, 'KPROXY_E_CONFIG');
    return error.problems.map((problem) => ({ ...problem, where: problem.where.replace(path, 'FILE') }));
  }
  assert.fail(`expected ${JSON.stringify(body)} to be rejected`);
}
