/** Parsers for option values: each failure is a ConfigError naming the option. */
import { InvalidArgumentError } from 'commander';

export function positiveInt(name: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError(`${name} must be a whole number ≥ 1`);
    return Number(value);
  };
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
