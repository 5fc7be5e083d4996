import { InvalidArgumentError } from 'commander';

/** A commander parser for positive integers (ab's -n, -c …). */
export function positiveInteger(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1)
    throw new InvalidArgumentError(`"${text}" is not a positive integer.`);
  return value;
}
