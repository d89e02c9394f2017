/**
 * `das predict`: inference over JSONL inputs for RoBERTa, ViLT and METER. Without a run it is the
 * published model exactly (no adapters, nothing skipped, the checkpoint's own head); with a run,
 * that run's adapters, heads and skipped layers; an exported DAS model (`das export`) brings its own.
 */
import fs from 'node:fs';
import path from 'node:path';
import { padImages } from '../data/image-collate.js';
import { createImagePreparer, type ImagePreparer } from '../data/image-workers.js';
import type { ImageTransformConfig } from '../data/image-transform.js';
import { argmaxRows } from '../data/metrics.js';
import { TextTokenizer } from '../data/tokenizer.js';
import { DasError, invalidArgument } from '../errors.js';
import { loadAdapters } from '../models/adapter-checkpoint.js';
import type { Architecture, Model } from '../models/model.js';
import { checkArchitecture, checkpointModelConfig, describeCheckpoint, loadPretrained, type CheckpointDescription } from '../models/pretrained-any.js';
import { loadPeftAdapter, peftTask, readPeftConfig } from '../methods/lora/peft.js';
import type { NativeBatch } from '../native/binding.js';
import { imageTransform, tokenizerSettings } from '../train/run-model.js';
import { RunDir } from '../train/run-dir.js';
import { runMethod, type ResolvedRunConfig } from '../train/runs.js';
import { FIXED_TASK_LABELS } from '../train/task-labels.js';
import { checkPredictInput, readPredictInputs, type InputFields, type PredictInput } from './predict-input.js';
import { publishedHead, type PublishedHead } from './published-head.js';

export interface PredictOptions {
  architecture: Architecture;
  /** Pre-trained or fine-tuned checkpoint, or a DAS model written by `das export`. */
  checkpoint: string;
  /** Apply this run's adapters, heads and skipped layers. */
  run?: string;
  /** Apply a HuggingFace PEFT LoRA adapter folder (adapter_config.json + adapter_model.safetensors; RoBERTa). */
  peft?: string;
  /** Without a run or an export: ViLT/METER vqa, nlvr2 or irtr (default: the head the checkpoint holds); RoBERTa mnli or sst2 (sizes and names its classes). */
  task?: string;
  /** Class names in index order, or a JSON file of them (an array, or an object index -> name). Default: the checkpoint's or run's. */
  labels?: string | readonly string[];
  /** A JSONL file (relative image paths from its folder), or the inputs themselves (paths from the working directory). */
  input: string | PredictInput[];
  /** Default 16. */
  batchSize?: number;
  device?: string;
  /** tokenizer.json; default beside the checkpoint, else the run's. */
  tokenizer?: string;
  onProgress?: (done: number, total: number) => void;
  /** Called for each input that was cut to the model's maximum length. */
  onWarning?: (message: string) => void;
}

export interface Prediction {
  logits: number[];
  /** The arg-max class by name where the checkpoint, run or task names it, else its index; retrieval: the match score. */
  label: string | number;
}

export interface PredictResult {
  predictions: Prediction[];
  skipped: string[];
}

const MODEL_NAMES: Record<Architecture, string> = { roberta: 'RoBERTa', vilt: 'ViLT', meter: 'METER' };

function inputFields(architecture: Architecture, task: string): InputFields {
  if (architecture === 'roberta') return { required: ['text'], optional: ['text_pair'], model: 'RoBERTa' };
  const model = `${MODEL_NAMES[architecture]} ${task.toUpperCase()}`;
  return { required: task === 'nlvr2' ? ['text', 'image_0', 'image_1'] : ['text', 'image'], optional: [], model };
}

interface Loaded {
  model: Model;
  skipped: string[];
  /** Class-name sources, most specific first. */
  labels: (readonly string[] | undefined)[];
  tokenizer?: string;
}

function id2label(json: Record<string, unknown> | undefined): string[] | undefined {
  const map = json?.id2label;
  if (!map || typeof map !== 'object') return undefined;
  const entries = Object.entries(map as Record<string, unknown>);
  return Array.from({ length: entries.length }, (_, i) => String((map as Record<string, unknown>)[String(i)] ?? ''));
}

function readLabelsFile(file: string): string[] {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new DasError('DAS_FILE', `labels file ${file}: ${(error as Error).message}`, { cause: error });
  }
  if (Array.isArray(json) && json.every((v) => typeof v === 'string')) return json;
  if (json && typeof json === 'object' && !Array.isArray(json)) return id2label({ id2label: json })!;
  throw new DasError('DAS_DATA', `labels file ${file}: expected an array of names or an object index -> name`);
}

/** The task (and answer count): the run's, the exported model's, or that of the head the published checkpoint holds. */
async function headOf(options: PredictOptions, { exported, json, files }: CheckpointDescription): Promise<PublishedHead> {
  if (options.run && options.peft) throw invalidArgument('--run / --peft', 'at most one of them', 'both');
  if (options.run) return { task: RunDir.open(options.run).readConfig<ResolvedRunConfig>().task };
  if (options.peft) return { task: options.task ?? (await peftTask(options.peft)) };
  return exported ? { task: exported.task } : publishedHead(options.architecture, files.weights, json, options.task);
}

/** The published model, a run's DAS model, or an exported one, and where its class names come from. */
async function loadForPrediction(options: PredictOptions, { task, numAnswers }: PublishedHead, { exported, json }: CheckpointDescription): Promise<Loaded> {
  const device = options.device ?? 'cpu';
  const { architecture, checkpoint } = options;
  if (options.run) {
    const runDir = RunDir.open(options.run);
    const config = runDir.readConfig<ResolvedRunConfig>();
    if (config.architecture !== architecture) throw new DasError('DAS_INVALID_ARGUMENT', `${options.run} is a run of a ${config.architecture} model, not ${architecture}`);
    const { model } = await loadPretrained(architecture, checkpoint, { task: config.task, device, numAnswers: config.numAnswers, method: runMethod(config) });
    const adapters = fs.existsSync(runDir.bestAdaptersDir) ? runDir.bestAdaptersDir : runDir.adaptersDir;
    const sidecar = await loadAdapters(model, adapters).catch(async (error: unknown) => {
      await model.dispose();
      throw error;
    });
    return { model, skipped: sidecar.skipped, labels: [runDir.readLabels(), FIXED_TASK_LABELS[config.task]], tokenizer: config.tokenizer };
  }
  if (options.peft) {
    const method = readPeftConfig(options.peft, architecture, checkpointModelConfig(architecture, checkpoint, task));
    const { model } = await loadPretrained(architecture, checkpoint, { task, device, method });
    await loadPeftAdapter(model, options.peft).catch(async (error: unknown) => {
      await model.dispose();
      throw error;
    });
    return { model, skipped: [], labels: [FIXED_TASK_LABELS[task]] };
  }
  if (exported) {
    const { model } = await loadPretrained(architecture, checkpoint, { task: exported.task, device });
    return { model, skipped: exported.skipped, labels: [id2label(json), FIXED_TASK_LABELS[exported.task]] };
  }
  // the published model as it is: no adapters at all
  const { model, report } = await loadPretrained(architecture, checkpoint, { task, numAnswers, device, withoutAdapters: true });
  const heads = new Set(model.parameters().filter((p) => p.head).map((p) => p.name));
  // a retrieval rank head starts from the matching head's positive row, as the original zero-shot retrieval scores
  const fromItm = (name: string) => name.startsWith('rank_output.') && report.loaded.some((n) => n.startsWith('itm_score.'));
  const missing = report.missing.filter((name) => !fromItm(name));
  if (missing.length) {
    const head = missing.filter((name) => heads.has(name));
    const what = head.length ? `no ${task} head (missing ${head.join(', ')})` : `not every weight of the published model (missing ${missing.slice(0, 10).join(', ')})`;
    await model.dispose();
    throw new DasError('DAS_CHECKPOINT', `${checkpoint} has ${what}: predict needs a fine-tuned checkpoint, an exported DAS model, or --run`);
  }
  return { model, skipped: [], labels: [id2label(json), FIXED_TASK_LABELS[task]] };
}

function labelNames(loaded: Loaded, explicit: PredictOptions['labels'], count: number): (string | number)[] {
  if (explicit !== undefined) {
    const names = typeof explicit === 'string' ? readLabelsFile(explicit) : explicit;
    if (names.length !== count) throw invalidArgument('labels', `${count} names (the model's classes)`, `${names.length} names`);
    return [...names];
  }
  const names = loaded.labels.find((candidate) => candidate?.length === count);
  return Array.from({ length: count }, (_, i) => names?.[i] || i);
}

/** Everything one forward pass needs for a slice of the inputs. */
class BatchBuilder {
  constructor(
    private readonly tokenizer: TextTokenizer,
    private readonly maxLength: number,
    private readonly transform: ImageTransformConfig | undefined,
    private readonly preparer: ImagePreparer | undefined,
    private readonly onWarning?: (message: string) => void,
  ) {}

  async build(inputs: PredictInput[], first: number): Promise<NativeBatch> {
    const rows = inputs.map((input, i) => {
      const encoded = this.tokenizer.encode(input.text, input.text_pair);
      if (encoded.truncated) this.onWarning?.(`input ${first + i + 1} is longer than ${this.maxLength} tokens and was truncated`);
      return encoded;
    });
    const text = this.tokenizer.pad(rows);
    const batch: NativeBatch = {
      input_ids: { dtype: 'int32', shape: [text.batchSize, text.length], data: text.inputIds },
      attention_mask: { dtype: 'uint8', shape: [text.batchSize, text.length], data: text.attentionMask },
    };
    if (!this.transform) return batch;
    const slots = inputs[0]!.image_0 !== undefined ? (['image_0', 'image_1'] as const) : (['image'] as const);
    const prepared = await Promise.all(
      slots.map((slot) => Promise.all(inputs.map((input, i) => this.preparer!.prepare({ file: input[slot]!, label: `${input[slot]} (input ${first + i + 1}, ${slot})` }, this.transform!, 0)))),
    );
    // an NLVR2 pair shares one padded size, as the training collate does
    const all = prepared.flat();
    const shared = { width: Math.max(...all.map((i) => i.width)), height: Math.max(...all.map((i) => i.height)) };
    prepared.forEach((images, s) => {
      const padded = padImages(images, shared);
      const suffix = s === 0 ? '' : '_1';
      batch[`pixel_values${suffix}`] = { dtype: 'float32', shape: [padded.batchSize, 3, padded.height, padded.width], data: padded.pixels };
      batch[`pixel_mask${suffix}`] = { dtype: 'uint8', shape: [padded.batchSize, padded.height, padded.width], data: padded.pixelMask };
    });
    return batch;
  }
}

async function tokenizerFor(options: PredictOptions, loaded: Loaded, beside: string | undefined): Promise<{ tokenizer: TextTokenizer; maxLength: number }> {
  const file = options.tokenizer ?? beside ?? loaded.tokenizer;
  if (!file || !fs.existsSync(file)) throw new DasError('DAS_FILE', `no tokenizer: ${file ?? path.join(options.checkpoint, 'tokenizer.json')} does not exist (pass --tokenizer)`);
  const settings = tokenizerSettings(loaded.model);
  return { tokenizer: await TextTokenizer.load(file, settings), maxLength: settings.maxLength! };
}

export async function predict(options: PredictOptions): Promise<PredictResult> {
  if (!(options.architecture in MODEL_NAMES)) throw invalidArgument('architecture', Object.keys(MODEL_NAMES).join(', '), options.architecture);
  const batchSize = options.batchSize ?? 16;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw invalidArgument('batch size', 'a positive integer', batchSize);
  const described = describeCheckpoint(options.checkpoint);
  checkArchitecture(options.architecture, options.checkpoint, described);
  const head = await headOf(options, described);
  const { task } = head;
  const fields = inputFields(options.architecture, task);
  const inputs = typeof options.input === 'string' ? readPredictInputs(options.input, fields) : options.input.map((input, i) => checkPredictInput(input, `input ${i + 1}`, fields));
  const loaded = await loadForPrediction(options, head, described);
  const { model, skipped } = loaded;
  const transform = imageTransform(model);
  const preparer = transform ? createImagePreparer() : undefined;
  try {
    const { tokenizer, maxLength } = await tokenizerFor(options, loaded, described.files.tokenizer);
    const builder = new BatchBuilder(tokenizer, maxLength, transform, preparer, options.onWarning);
    const predictions: Prediction[] = [];
    let labels: (string | number)[] | undefined;
    for (let start = 0; start < inputs.length; start += batchSize) {
      const chunk = inputs.slice(start, start + batchSize);
      const { logits } = await model.evalStep(await builder.build(chunk, start), { skip: skipped, logits: true });
      const classes = logits!.shape[1]!;
      labels ??= task === 'irtr' ? [] : labelNames(loaded, options.labels, classes);
      const best = argmaxRows(logits!.data, classes);
      chunk.forEach((_, i) => {
        const row = Array.from(logits!.data.subarray(i * classes, (i + 1) * classes));
        predictions.push({ logits: row, label: task === 'irtr' ? row[0]! : labels![best[i]!]! });
      });
      options.onProgress?.(predictions.length, inputs.length);
    }
    return { predictions, skipped };
  } finally {
    await preparer?.close();
    await model.dispose();
  }
}
