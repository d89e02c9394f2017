/**
 * `das predict`: inference over JSONL inputs. Without a run it is the published model exactly (no
 * adapters, nothing skipped, the checkpoint's own head); with a run, that run's adapters, heads and
 * skipped layers; an exported DAS model (`das export`) brings its own.
 */
import fs from 'node:fs';
import path from 'node:path';
import { argmaxRows } from '../data/metrics.js';
import { TextTokenizer } from '../data/tokenizer.js';
import { DasError, invalidArgument } from '../errors.js';
import { loadAdapters } from '../models/adapter-checkpoint.js';
import type { Model } from '../models/model.js';
import { checkpointConfigJson, loadPretrainedRoberta } from '../models/pretrained.js';
import type { RobertaTask } from '../models/presets.js';
import { tokenizerSettings } from '../train/run-model.js';
import { RunDir } from '../train/run-dir.js';
import type { ResolvedRunConfig } from '../train/runs.js';
import { readPredictInputs, type PredictInput } from './predict-input.js';

export interface PredictOptions {
  architecture: 'roberta';
  /** Pre-trained checkpoint, or a DAS model written by `das export`. */
  checkpoint: string;
  /** Apply this run's adapters, heads and skipped layers. */
  run?: string;
  /** A JSONL file, or the inputs themselves. */
  input: string | PredictInput[];
  /** Default 16. */
  batchSize?: number;
  device?: string;
  /** tokenizer.json; default beside the checkpoint. */
  tokenizer?: string;
  onProgress?: (done: number, total: number) => void;
  /** Called for each input that was cut to the model's maximum length. */
  onWarning?: (message: string) => void;
}

export interface Prediction {
  logits: number[];
  /** The label's name where the checkpoint or task names it, else its index. */
  label: string | number;
}

export interface PredictResult {
  predictions: Prediction[];
  skipped: string[];
}

const TASK_LABELS: Record<string, string[]> = { mnli: ['entailment', 'neutral', 'contradiction'], sst2: ['negative', 'positive'] };

function labelNames(config: Record<string, unknown> | undefined, task: string | undefined, count: number): (string | number)[] {
  const id2label = config?.id2label as Record<string, string> | undefined;
  if (id2label && Object.keys(id2label).length === count) return Array.from({ length: count }, (_, i) => id2label[String(i)] ?? i);
  const named = task ? TASK_LABELS[task] : undefined;
  return named && named.length === count ? named : Array.from({ length: count }, (_, i) => i);
}

interface Loaded {
  model: Model<'roberta'>;
  skipped: string[];
  task?: string;
}

async function loadForPrediction(options: PredictOptions): Promise<Loaded> {
  const device = options.device ?? 'cpu';
  if (options.run) {
    const runDir = RunDir.open(options.run);
    const config = runDir.readConfig<ResolvedRunConfig>();
    if (config.architecture !== options.architecture) {
      throw new DasError('DAS_INVALID_ARGUMENT', `${options.run} is a run of a ${config.architecture} model, not ${options.architecture}`);
    }
    const { model } = await loadPretrainedRoberta(options.checkpoint, { task: config.task as RobertaTask, device });
    const adapters = fs.existsSync(runDir.bestAdaptersDir) ? runDir.bestAdaptersDir : runDir.adaptersDir;
    const sidecar = await loadAdapters(model, adapters);
    return { model, skipped: sidecar.skipped, task: config.task };
  }
  const json = checkpointConfigJson(options.checkpoint);
  if (json?.das) {
    const { model, exported } = await loadPretrainedRoberta(options.checkpoint, { device });
    return { model, skipped: exported!.skipped, task: exported!.task };
  }
  // the published model as it is: no adapters at all
  const { model, report } = await loadPretrainedRoberta(options.checkpoint, { device, overrides: { adapterBottleneck: 0, skipBottleneck: 0 } });
  const head = report.missing.filter((name) => name.startsWith('classifier.'));
  if (head.length) {
    throw new DasError('DAS_CHECKPOINT', `${options.checkpoint} has no classification head (missing ${head.join(', ')}): predict needs a fine-tuned checkpoint, an exported DAS model, or --run`);
  }
  return { model, skipped: [] };
}

async function predictBatches(model: Model, tokenizer: TextTokenizer, inputs: PredictInput[], skipped: string[], labels: (string | number)[], options: PredictOptions & { batchSize: number; maxLength: number }): Promise<Prediction[]> {
  const predictions: Prediction[] = [];
  for (let start = 0; start < inputs.length; start += options.batchSize) {
    const chunk = inputs.slice(start, start + options.batchSize);
    const rows = chunk.map((input, i) => {
      const encoded = tokenizer.encode(input.text, input.text_pair);
      if (encoded.truncated) options.onWarning?.(`input ${start + i + 1} is longer than ${options.maxLength} tokens and was truncated`);
      return encoded;
    });
    const text = tokenizer.pad(rows);
    const batch = {
      input_ids: { dtype: 'int32' as const, shape: [text.batchSize, text.length], data: text.inputIds },
      attention_mask: { dtype: 'uint8' as const, shape: [text.batchSize, text.length], data: text.attentionMask },
    };
    const { logits } = await model.evalStep(batch, { skip: skipped, logits: true });
    const classes = logits!.shape[1]!;
    const best = argmaxRows(logits!.data, classes);
    chunk.forEach((_, i) => predictions.push({ logits: Array.from(logits!.data.subarray(i * classes, (i + 1) * classes)), label: labels[best[i]!]! }));
    options.onProgress?.(predictions.length, inputs.length);
  }
  return predictions;
}

export async function predict(options: PredictOptions): Promise<PredictResult> {
  if (options.architecture !== 'roberta') throw invalidArgument('architecture', "'roberta' (ViLT and METER are not available yet)", options.architecture);
  const batchSize = options.batchSize ?? 16;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw invalidArgument('batch size', 'a positive integer', batchSize);
  const inputs = typeof options.input === 'string' ? readPredictInputs(options.input) : options.input;
  const { model, skipped, task } = await loadForPrediction(options);
  try {
    const checkpointDir = fs.statSync(options.checkpoint).isDirectory() ? options.checkpoint : path.dirname(options.checkpoint);
    const tokenizerFile = options.tokenizer ?? path.join(checkpointDir, 'tokenizer.json');
    if (!fs.existsSync(tokenizerFile)) throw new DasError('DAS_FILE', `no tokenizer: ${tokenizerFile} does not exist (pass --tokenizer)`);
    const settings = tokenizerSettings(model);
    const maxLength = settings.maxLength!;
    const tokenizer = await TextTokenizer.load(tokenizerFile, settings);
    const labels = labelNames(checkpointConfigJson(options.checkpoint), task, model.config.numLabels);
    return { predictions: await predictBatches(model, tokenizer, inputs, skipped, labels, { ...options, batchSize, maxLength }), skipped };
  } finally {
    await model.dispose();
  }
}
