// Parsers for command-line option values. parseX(option, text) throws a UsageError naming the
// option; the lower-case coercers (positiveInteger('--rate') …) wrap them for commander's
// .option(flags, description, coercer), which prints the message with the command's usage.
import { InvalidArgumentError } from 'commander';
import { UsageError } from '../config/errors.js';

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A point in time: ISO-8601 ("2015-05-17T10:00:00Z", "2015-05-17") or an age ("90m", "24h", "7d" ago). */
export function parseTime(option: string, value: string, nowMs = Date.now()): number {
  const age = /^(\d+(?:\.\d+)?)([smhd])$/.exec(value.trim());
  if (age) return nowMs - Number(age[1]) * UNIT_MS[age[2]!]!;
  const parsed = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(parsed))
    throw new UsageError(
      `${option}: cannot read "${value}" as a time`,
      'use ISO-8601 (2015-05-17T10:00:00Z) or an age such as 30m, 24h, 7d',
    );
  return parsed;
}

export function parsePositiveInteger(option: string, value: string): number {
  const number = Number(value);
  if (value.trim() === '' || !Number.isSafeInteger(number) || number <= 0)
    throw new UsageError(`${option} must be a positive whole number, got "${value}"`);
  return number;
}

export function parseNonNegativeInteger(option: string, value: string): number {
  const number = Number(value);
  if (value.trim() === '' || !Number.isSafeInteger(number) || number < 0)
    throw new UsageError(`${option} must be a whole number ≥ 0, got "${value}"`);
  return number;
}

export function parsePositiveNumber(option: string, value: string): number {
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number) || number <= 0)
    throw new UsageError(`${option} must be a positive number, got "${value}"`);
  return number;
}

export function parseNonNegativeNumber(option: string, value: string): number {
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number) || number < 0) throw new UsageError(`${option} must be zero or more, got "${value}"`);
  return number;
}

export function parseChoice<T extends string>(option: string, value: string, choices: readonly T[]): T {
  if (!choices.includes(value as T)) throw new UsageError(`${option} must be one of ${choices.join(', ')}, got "${value}"`);
  return value as T;
}

/** A commander option coercer from a parser. */
function coercer<T>(option: string, parse: (option: string, value: string) => T): (value: string) => T {
  return (value) => {
    try {
      return parse(option, value);
    } catch (error) {
      if (error instanceof UsageError) throw new InvalidArgumentError(error.message);
      throw error;
    }
  };
}

export const positiveInteger = (option: string) => coercer(option, parsePositiveInteger);
export const positiveNumber = (option: string) => coercer(option, parsePositiveNumber);
export const nonNegativeNumber = (option: string) => coercer(option, parseNonNegativeNumber);
