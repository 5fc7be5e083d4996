import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { KproxyError } from '../errors.js';
import { ConfigError, FieldLocations } from './config-error.js';
import type { RawTree } from './decode-fields.js';
import { applyKubeProxyDefaults } from './defaults.js';
import { parseFlagValue } from './flag-values.js';
import { formatGoDuration } from './go-duration.js';
import { applyFlagOverrides } from './kube-proxy-flags.js';
import { readConfigFile } from './read-config-file.js';
import { type FieldSpec, kubeProxyConfigurationSpec } from './schema.js';
import type { KubeProxyConfiguration } from './types.js';
import { validateKubeProxyConfiguration } from './validate.js';

export interface EffectiveConfigOptions {
  /** The --config file; when absent, `flags.config` is used, and without either only flags and defaults count. */
  readonly configPath?: string;
  /** Parsed flags as commander gives them (`command.opts()` of a command set up by registerKubeProxyFlags). */
  readonly flags?: Readonly<Record<string, unknown>>;
}

export interface EffectiveConfig {
  readonly config: KubeProxyConfiguration;
  readonly configPath?: string;
  /** --master: the API server URL, overriding the kubeconfig's. */
  readonly master?: string;
  /** --cleanup: remove the rules and exit. */
  readonly cleanup: boolean;
  /** --write-config-to: write the effective configuration there and exit. */
  readonly writeConfigTo?: string;
}

/**
 * The configuration kproxy runs with: the file (strictly decoded), the user's flags over it (flags
 * win, as in kube-proxy), kube-proxy's defaults, then kube-proxy's validation. Throws one ConfigError
 * (KPROXY_E_CONFIG) listing every problem, each with file:line (or the flag) and the field path.
 */
export function resolveEffectiveConfig(options: EffectiveConfigOptions = {}): EffectiveConfig {
  const flags = options.flags ?? {};
  const configPath = options.configPath ?? optionalString(flags.config);
  const decoded = configPath
    ? readConfigFile(configPath)
    : { tree: {} as RawTree, locations: new FieldLocations('(defaults)'), problems: [] };
  const syntaxBroken = 'unreadable' in decoded && decoded.unreadable === true;
  const flagProblems = syntaxBroken ? [] : applyFlagOverrides(decoded.tree, flags, decoded.locations);
  const cleanup = flags.cleanup === undefined ? { value: false } : parseFlagValue(flags.cleanup, 'bool');
  if ('error' in cleanup)
    flagProblems.push({ where: 'flag --cleanup', path: '(--cleanup)', message: cleanup.error });
  const config = applyKubeProxyDefaults(decoded.tree);
  const problems = syntaxBroken
    ? decoded.problems
    : [...decoded.problems, ...flagProblems, ...validateKubeProxyConfiguration(config, decoded.locations)];
  if (problems.length > 0) throw new ConfigError(configPath ?? 'from flags', problems);
  return {
    config,
    configPath,
    master: optionalString(flags.master),
    cleanup: 'value' in cleanup && cleanup.value === true,
    writeConfigTo: optionalString(flags.writeConfigTo),
  };
}

/** The configuration as KubeProxyConfiguration YAML (keys sorted, Go durations), which loads back equal. */
export function renderKubeProxyConfiguration(config: KubeProxyConfiguration): string {
  return stringify(toDocumentValue(config, kubeProxyConfigurationSpec), {
    sortMapEntries: true,
    lineWidth: 0,
  });
}

/** --write-config-to: writes the effective configuration to a file. */
export function writeEffectiveConfig(config: KubeProxyConfiguration, path: string): void {
  try {
    writeFileSync(path, renderKubeProxyConfiguration(config));
  } catch (error) {
    throw new KproxyError(
      'KPROXY_E_CONFIG',
      `--write-config-to ${path}: cannot write the file (${String(error)})`,
      {
        hint: 'choose a path in a directory that exists and is writable',
        cause: error,
      },
    );
  }
}

function toDocumentValue(value: unknown, spec: FieldSpec): unknown {
  if (spec.kind === 'duration' || spec.kind === 'durationOrNanos') return formatGoDuration(value as number);
  if (spec.kind === 'struct') {
    const record = value as Record<string, unknown>;
    const entries = Object.entries(spec.fields).map(([name, field]) => [
      name,
      toDocumentValue(record[name], field),
    ]);
    return Object.fromEntries(entries);
  }
  if (spec.kind === 'structList') return (value as unknown[]).map((item) => toDocumentValue(item, spec.item));
  return value;
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
