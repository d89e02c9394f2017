/**
 * What a resumed run may change. A run's settings are fixed when it starts (config.json). A resume
 * that asks for a different value of a setting that shapes the result (learning rate, epochs,
 * batch, seed, skipped layers, search schedule, ...) is refused, naming each one: continuing under
 * new settings would give a run that no config describes. Settings that do not change the result
 * (where the files are now, the device, the checkpoint interval) are applied, recorded in
 * config.json, and reported. Only the options a caller actually passed are compared.
 */
import path from 'node:path';
import { SEARCH_POLICY_DEFAULTS } from '../das/search-config.js';
import { DasError, describe } from '../errors.js';
import { runPrecision } from '../models/precision.js';
import type { ResolvedRunConfig, SearchOptions, TrainOptions } from './runs.js';

type Requested = Partial<SearchOptions & TrainOptions>;

interface Setting {
  /** The option as the command line spells it. */
  flag: string;
  requested: (options: Requested) => unknown;
  stored: (config: ResolvedRunConfig) => unknown;
  /** Present for settings a resume may change: writes the new value into the config. */
  apply?: (config: ResolvedRunConfig, value: unknown) => void;
}

const resolved = (file: string | undefined) => (file === undefined ? undefined : path.resolve(file));
const sorted = (names: readonly string[] | undefined) => (names === undefined ? undefined : [...names].sort());

const SETTINGS: Setting[] = [
  { flag: '--model', requested: (o) => o.architecture, stored: (c) => c.architecture },
  { flag: '--task', requested: (o) => o.task, stored: (c) => c.task },
  { flag: '--seed', requested: (o) => o.seed, stored: (c) => c.seed },
  { flag: '--precision', requested: (o) => o.precision, stored: (c) => runPrecision(c) },
  { flag: '--lr', requested: (o) => o.lr, stored: (c) => c.lr },
  { flag: '--epochs', requested: (o) => o.epochs, stored: (c) => c.epochs },
  { flag: '--batch-size', requested: (o) => o.batchSize, stored: (c) => c.batchSize },
  { flag: '--effective-batch', requested: (o) => o.effectiveBatch, stored: (c) => c.batchSize * c.accumulation * (c.world?.size ?? 1) },
  { flag: 'numAnswers', requested: (o) => o.numAnswers, stored: (c) => c.numAnswers ?? 3129 },
  { flag: '--skip-num', requested: (o) => o.skipNum, stored: (c) => c.search?.skipNum },
  { flag: '--scope', requested: (o) => o.scope, stored: (c) => c.search?.scope },
  { flag: '--turn', requested: (o) => o.turn, stored: (c) => c.search && (c.search.turn ?? SEARCH_POLICY_DEFAULTS.turn) },
  { flag: '--samples', requested: (o) => o.samples, stored: (c) => c.search && (c.search.samples ?? SEARCH_POLICY_DEFAULTS.samples) },
  { flag: '--gate-lr', requested: (o) => o.gateLr, stored: (c) => c.search && (c.search.gateLr ?? SEARCH_POLICY_DEFAULTS.gateLr) },
  { flag: '--skip', requested: (o) => sorted(o.skip), stored: (c) => sorted(c.skip ?? []) },
  { flag: '--skip-from', requested: (o) => resolved(o.skipFrom), stored: (c) => (c.skipSource?.kind === 'search' ? c.skipSource.run : undefined) },
  { flag: '--skip-random', requested: (o) => o.skipRandom, stored: (c) => (c.skipSource?.kind === 'random' ? c.skipSource.k : undefined) },
  { flag: '--checkpoint', requested: (o) => resolved(o.checkpoint), stored: (c) => c.checkpoint, apply: (c, v) => (c.checkpoint = v as string) },
  { flag: '--data', requested: (o) => resolved(o.data), stored: (c) => c.data, apply: (c, v) => (c.data = v as string) },
  { flag: '--tokenizer', requested: (o) => resolved(o.tokenizer), stored: (c) => c.tokenizer, apply: (c, v) => (c.tokenizer = v as string) },
  { flag: '--device', requested: (o) => o.device, stored: (c) => c.device, apply: (c, v) => (c.device = v as string) },
  { flag: '--checkpoint-every', requested: (o) => o.checkpointEvery, stored: (c) => c.checkpointEvery, apply: (c, v) => (c.checkpointEvery = v as number) },
];

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const show = (value: unknown) => (Array.isArray(value) ? `[${value.join(', ')}]` : value === undefined ? 'none' : describe(value));

/**
 * Checks the options of a resume against the stored config. Throws a DasError naming every
 * setting that may not change; returns the config with the changeable ones applied, and a line
 * per applied change.
 */
export function reconcileResume(stored: ResolvedRunConfig, options: Requested, runDir: string): { config: ResolvedRunConfig; applied: string[] } {
  const config: ResolvedRunConfig = JSON.parse(JSON.stringify(stored));
  const refused: string[] = [];
  const applied: string[] = [];
  for (const setting of SETTINGS) {
    const value = setting.requested(options);
    if (value === undefined) continue;
    const before = setting.stored(stored);
    if (same(value, before)) continue;
    const change = `${setting.flag} ${show(value)} (the run has ${show(before)})`;
    if (setting.apply) {
      setting.apply(config, value);
      applied.push(change);
    } else {
      refused.push(change);
    }
  }
  if (refused.length) {
    throw new DasError(
      'DAS_INVALID_ARGUMENT',
      `cannot resume ${runDir} with different settings: ${refused.join('; ')}. A run keeps the settings it started with: ` +
        'drop these options to resume it, or start a new run in another folder',
    );
  }
  return { config, applied };
}
