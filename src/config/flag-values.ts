import type { RawTree, RawValue } from './decode-fields.js';
import { goDurationHint, parseGoDuration } from './go-duration.js';

/** How a kube-proxy flag's text becomes a configuration value. */
export type FlagKind =
  | 'string'
  | 'bool'
  | 'int32'
  | 'uint32'
  | 'float'
  | 'duration'
  | 'list'
  | 'gates'
  | 'vmodule';

/** Go's strconv.ParseBool spellings. */
const boolWords: ReadonlyMap<string, boolean> = new Map([
  ...['1', 't', 'T', 'TRUE', 'true', 'True'].map((word): [string, boolean] => [word, true]),
  ...['0', 'f', 'F', 'FALSE', 'false', 'False'].map((word): [string, boolean] => [word, false]),
]);

export type FlagValue = { readonly value: RawValue } | { readonly error: string };

/** Parses a flag as pflag would for kube-proxy; `error` says what the flag accepts. */
export function parseFlagValue(given: unknown, kind: FlagKind): FlagValue {
  const text = String(given);
  const valid = (value: RawValue | undefined, error: string): FlagValue =>
    value === undefined ? { error } : { value };
  switch (kind) {
    case 'bool':
      return valid(given === true ? true : boolWords.get(text), `must be true or false, got "${text}"`);
    case 'string':
      return { value: text };
    case 'int32':
      return valid(
        wholeNumber(text, -(2 ** 31), 2 ** 31 - 1),
        `must be a whole number (32-bit), got "${text}"`,
      );
    case 'uint32':
      return valid(wholeNumber(text, 0, 2 ** 32 - 1), `must be a whole number ≥ 0, got "${text}"`);
    case 'float':
      return valid(
        text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : undefined,
        `must be a number, got "${text}"`,
      );
    case 'duration':
      return valid(parseGoDuration(text), `must be ${goDurationHint}, got "${text}"`);
    case 'list':
      return { value: splitList(text) };
    case 'gates':
      return valid(parseGates(text), `must be Name=true|false pairs separated by commas, got "${text}"`);
    case 'vmodule':
      return valid(parseVmodule(text), `must be pattern=N pairs separated by commas, got "${text}"`);
  }
}

function wholeNumber(text: string, min: number, max: number): number | undefined {
  const value = Number(text);
  return /^[+-]?\d+$/.test(text) && value >= min && value <= max ? value : undefined;
}

function splitList(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function parseGates(text: string): RawValue | undefined {
  const gates: Record<string, boolean> = {};
  for (const pair of splitList(text)) {
    const [name = '', value = ''] = pair.split('=');
    const enabled = boolWords.get(value.trim());
    if (!/^[A-Za-z][A-Za-z0-9]*$/.test(name.trim()) || enabled === undefined) return undefined;
    gates[name.trim()] = enabled;
  }
  return gates;
}

function parseVmodule(text: string): RawValue | undefined {
  const items: RawTree[] = [];
  for (const pair of splitList(text)) {
    const [filePattern = '', level = ''] = pair.split('=');
    if (filePattern === '' || !/^\d+$/.test(level)) return undefined;
    items.push({ filePattern, verbosity: Number(level) });
  }
  return items;
}
