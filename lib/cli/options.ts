/** Option parsers shared by the commands: each rejects a bad value with the option's name. */
import { InvalidArgumentError, Option } from 'commander';
import { PRECISIONS } from '../models/precision.js';

export function integer(min: number): (value: string) => number {
  return (value) => {
    const number = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(number) || number < min) {
      throw new InvalidArgumentError(`expected an integer >= ${min}, got "${value}"`);
    }
    return number;
  };
}

export function positiveNumber(value: string): number {
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number) || number <= 0) throw new InvalidArgumentError(`expected a positive number, got "${value}"`);
  return number;
}

export function layerList(value: string): string[] {
  const names = value.split(',').map((name) => name.trim()).filter(Boolean);
  if (names.length === 0) throw new InvalidArgumentError('expected comma-separated layer names, e.g. En3,En10');
  const repeated = names.find((name, i) => names.indexOf(name) !== i);
  if (repeated) throw new InvalidArgumentError(`expected each layer at most once, got ${repeated} twice in "${value}"`);
  return names;
}

export const ARCHITECTURES = ['roberta', 'vilt', 'meter'] as const;
export const TASKS = ['vqa', 'nlvr2', 'irtr', 'mnli', 'sst2'] as const;

/** --precision, the same on every command that computes. */
export function precisionOption(help: string): Option {
  return new Option('--precision <precision>', help).choices(PRECISIONS);
}
