/**
 * Defaults per model x task. Batch sizes are the effective batch of the original runs;
 * the per-step batch is what fits in memory, and gradient accumulation makes up the difference.
 * ViLT's figures are its published fine-tuning configurations. The original METER and RoBERTa
 * rates are for full fine-tuning; adapters need larger ones, so those defaults are adapter rates
 * (override with --lr).
 */
import { invalidArgument } from '../errors.js';

export type Arch = 'roberta' | 'vilt' | 'meter';
export type Task = 'vqa' | 'nlvr2' | 'irtr' | 'mnli' | 'sst2';

export interface TaskSettings {
  /** Peak learning rate. */
  lr: number;
  epochs: number;
  /** Effective batch (per optimizer step). */
  effectiveBatch: number;
  /** Default per-step batch; accumulation = effectiveBatch / batchSize. */
  batchSize: number;
  headLrMultiplier: number;
  weightDecay: number;
  warmupFraction: number;
  /** Search epochs (3, the first a warm-up). */
  searchEpochs: number;
}

const COMMON = { weightDecay: 0.01, warmupFraction: 0.1, searchEpochs: 3 };

const SETTINGS: Partial<Record<`${Arch}:${Task}`, TaskSettings>> = {
  'roberta:mnli': { ...COMMON, lr: 5e-4, epochs: 10, effectiveBatch: 32, batchSize: 32, headLrMultiplier: 1 },
  'roberta:sst2': { ...COMMON, lr: 5e-4, epochs: 10, effectiveBatch: 32, batchSize: 32, headLrMultiplier: 1 },
  'vilt:vqa': { ...COMMON, lr: 1e-4, epochs: 10, effectiveBatch: 256, batchSize: 32, headLrMultiplier: 10 },
  'vilt:nlvr2': { ...COMMON, lr: 1e-4, epochs: 10, effectiveBatch: 128, batchSize: 16, headLrMultiplier: 10 },
  'vilt:irtr': { ...COMMON, lr: 1e-4, epochs: 10, effectiveBatch: 256, batchSize: 4, headLrMultiplier: 1 },
  'meter:vqa': { ...COMMON, lr: 1e-4, epochs: 10, effectiveBatch: 512, batchSize: 16, headLrMultiplier: 50 },
  'meter:nlvr2': { ...COMMON, lr: 1e-4, epochs: 10, effectiveBatch: 256, batchSize: 8, headLrMultiplier: 10 },
  'meter:irtr': { ...COMMON, lr: 1e-4, epochs: 10, effectiveBatch: 512, batchSize: 4, headLrMultiplier: 5 },
};

export function taskSettings(arch: Arch, task: Task): TaskSettings {
  const settings = SETTINGS[`${arch}:${task}`];
  if (!settings) {
    const tasks = Object.keys(SETTINGS).filter((k) => k.startsWith(`${arch}:`)).map((k) => k.split(':')[1]);
    throw invalidArgument(`task for ${arch}`, `one of ${tasks.join(', ')}`, task);
  }
  return { ...settings };
}
