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
import { runPrecision, validatePrecision, type Precision } from '../models/precision.js';
import { normalizeDevice } from '../native/runtime.js';
import { checkArchitecture, checkpointModelConfig, describeCheckpoint, loadPretrained, type CheckpointDescription } from '../models/pretrained-any.js';
import { loadPeftAdapter, peftTask, readPeftConfig } from '../methods/lora/peft.js';
import type { NativeBatch } from '../native/binding.js';
import { imageTransform, tokenizerSettings } from '../train/run-model.js';
import { RunDir } from '../train/run-dir.js';
import { runMethod, type ResolvedRunConfig } from '../train/runs.js';
import { FIXED_TASK_LABELS } from '../train/task-labels.js';
import { checkPredictInput, readPredictInputs, type InputFields, type PredictInput } from './predict-input.js';
import { publishedHead, type PublishedHead } from './published-head.js';
import { readJsonFileSync } from '../util/text-file.js';

/** What a Predictor loads: the model, and how its inputs are read. */
export interface PredictorOptions {
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
  /** Default 16. */
  batchSize?: number;
  device?: string;
  /** Compute precision (fp32, bf16; fp16 on CUDA). Default: the run's with `run`, else fp32. */
  precision?: Precision;
  /** tokenizer.json; default beside the checkpoint, else the run's. */
  tokenizer?: string;
  /** Called for each input that was cut to the model's maximum length. */
  onWarning?: (message: string) => void;
}

export interface PredictOptions extends PredictorOptions {
  /** A JSONL file (relative image paths from its folder), or the inputs themselves (paths from the working directory). */
  input: string | PredictInput[];
  onProgress?: (done: number, total: number) => void;
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
  const json = readJsonFileSync(file, 'Labels file');
  if (Array.isArray(json) && json.every((v) => typeof v === 'string')) return json;
  if (json && typeof json === 'object' && !Array.isArray(json)) return id2label({ id2label: json })!;
  throw new DasError('DAS_DATA', `labels file ${file}: expected an array of names or an object index -> name`);
}

/** The task (and answer count): the run's, the exported model's, or that of the head the published checkpoint holds. */
async function headOf(options: PredictorOptions, { exported, json, files }: CheckpointDescription): Promise<PublishedHead> {
  if (options.run && options.peft) throw invalidArgument('--run / --peft', 'at most one of them', 'both');
  if (options.run) return { task: RunDir.open(options.run).readConfig<ResolvedRunConfig>().task };
  if (options.peft) return { task: options.task ?? (await peftTask(options.peft)) };
  return exported ? { task: exported.task } : publishedHead(options.architecture, files.weights, json, options.task);
}

/** The published model, a run's DAS model, or an exported one, and where its class names come from. */
async function loadForPrediction(options: PredictorOptions, { task, numAnswers }: PublishedHead, { exported, json }: CheckpointDescription): Promise<Loaded> {
  const device = options.device ?? 'cpu';
  const { architecture, checkpoint } = options;
  if (options.run) {
    const runDir = RunDir.open(options.run);
    const config = runDir.readConfig<ResolvedRunConfig>();
    if (config.architecture !== architecture) throw new DasError('DAS_INVALID_ARGUMENT', `${options.run} is a run of a ${config.architecture} model, not ${architecture}`);
    const precision = options.precision ?? runPrecision(config);
    const { model } = await loadPretrained(architecture, checkpoint, { task: config.task, device, precision, numAnswers: config.numAnswers, method: runMethod(config) });
    const adapters = runDir.adaptersFor();
    const sidecar = await loadAdapters(model, adapters).catch(async (error: unknown) => {
      await model.dispose();
      throw error;
    });
    return { model, skipped: sidecar.skipped, labels: [runDir.readLabels(), FIXED_TASK_LABELS[config.task]], tokenizer: config.tokenizer };
  }
  if (options.peft) {
    const method = readPeftConfig(options.peft, architecture, checkpointModelConfig(architecture, checkpoint, task));
    const { model } = await loadPretrained(architecture, checkpoint, { task, device, precision: options.precision, method });
    await loadPeftAdapter(model, options.peft).catch(async (error: unknown) => {
      await model.dispose();
      throw error;
    });
    return { model, skipped: [], labels: [FIXED_TASK_LABELS[task]] };
  }
  if (exported) {
    const { model } = await loadPretrained(architecture, checkpoint, { task: exported.task, device, precision: options.precision });
    return { model, skipped: exported.skipped, labels: [id2label(json), FIXED_TASK_LABELS[exported.task]] };
  }
  // the published model as it is: no adapters at all
  const { model, report } = await loadPretrained(architecture, checkpoint, { task, numAnswers, device, precision: options.precision, withoutAdapters: true });
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

async function tokenizerFor(options: PredictorOptions, loaded: Loaded, beside: string | undefined): Promise<{ tokenizer: TextTokenizer; maxLength: number }> {
  const file = options.tokenizer ?? beside ?? loaded.tokenizer;
  if (!file || !fs.existsSync(file)) throw new DasError('DAS_FILE', `no tokenizer: ${file ?? path.join(options.checkpoint, 'tokenizer.json')} does not exist (pass --tokenizer)`);
  const settings = tokenizerSettings(loaded.model);
  return { tokenizer: await TextTokenizer.load(file, settings), maxLength: settings.maxLength! };
}

/** What the checkpoint (and run) say before any weight is loaded: its files, its head's task, the input fields it takes. */
interface Plan {
  described: CheckpointDescription;
  head: PublishedHead;
  fields: InputFields;
}

async function plan(options: PredictorOptions): Promise<Plan> {
  if (!(options.architecture in MODEL_NAMES)) throw invalidArgument('architecture', Object.keys(MODEL_NAMES).join(', '), options.architecture);
  const batchSize = options.batchSize ?? 16;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw invalidArgument('batch size', 'a positive integer', batchSize);
  // the device and precision first: a machine that cannot run them needs no checkpoint read to say so
  const device = normalizeDevice(options.device ?? 'cpu');
  if (options.precision !== undefined) validatePrecision(options.precision, device);
  const described = describeCheckpoint(options.checkpoint);
  checkArchitecture(options.architecture, options.checkpoint, described);
  const head = await headOf(options, described);
  return { described, head, fields: inputFields(options.architecture, head.task) };
}

function readInputs(input: string | readonly PredictInput[], fields: InputFields): PredictInput[] {
  if (typeof input === 'string') return readPredictInputs(input, fields);
  if (!Array.isArray(input)) throw invalidArgument('inputs', 'a JSONL file path or an array of inputs', input);
  if (input.length === 0) throw invalidArgument('inputs', 'at least one input', 'an empty array');
  return input.map((one, i) => checkPredictInput(one, `input ${i + 1}`, fields));
}

/**
 * A model loaded once for inference, run on any number of input sets (as onnxruntime's
 * InferenceSession): `const p = await Predictor.load(options); await p.run(inputs); ...;
 * await p.dispose()` (or `await using p = ...`). Calls to run() may overlap; they share the model
 * and run one forward pass at a time.
 */
export class Predictor {
  private disposal?: Promise<void>;
  private labels?: (string | number)[];

  private constructor(
    private readonly options: PredictorOptions,
    private readonly fields: InputFields,
    /** The task of the head: 'vqa', 'nlvr2', 'irtr', 'mnli' or 'sst2'. */
    readonly task: string,
    private readonly loaded: Loaded,
    private readonly builder: BatchBuilder,
    private readonly preparer: ImagePreparer | undefined,
  ) {}

  /** Loads the published model, a run's DAS model or an exported one, with its tokenizer and image transform. */
  static async load(options: PredictorOptions): Promise<Predictor> {
    const { described, head, fields } = await plan(options);
    const loaded = await loadForPrediction(options, head, described);
    const transform = imageTransform(loaded.model);
    const preparer = transform ? createImagePreparer() : undefined;
    try {
      const { tokenizer, maxLength } = await tokenizerFor(options, loaded, described.files.tokenizer);
      return new Predictor(options, fields, head.task, loaded, new BatchBuilder(tokenizer, maxLength, transform, preparer, options.onWarning), preparer);
    } catch (error) {
      await preparer?.close();
      await loaded.model.dispose();
      throw error;
    }
  }

  /** The layers the model skips. */
  get skipped(): string[] {
    return [...this.loaded.skipped];
  }

  /** Predictions for a JSONL file (relative image paths from its folder) or for inputs (paths as given), in order. */
  async run(input: string | readonly PredictInput[], options: { onProgress?: (done: number, total: number) => void } = {}): Promise<PredictResult> {
    if (this.disposal) throw new DasError('DAS_INVALID_ARGUMENT', 'this Predictor has been disposed');
    const inputs = readInputs(input, this.fields);
    const batchSize = this.options.batchSize ?? 16;
    const predictions: Prediction[] = [];
    for (let start = 0; start < inputs.length; start += batchSize) {
      const chunk = inputs.slice(start, start + batchSize);
      const { logits } = await this.loaded.model.evalStep(await this.builder.build(chunk, start), { skip: this.loaded.skipped, logits: true });
      const classes = logits!.shape[1]!;
      const labels = this.task === 'irtr' ? [] : (this.labels ??= labelNames(this.loaded, this.options.labels, classes));
      const best = argmaxRows(logits!.data, classes);
      chunk.forEach((_, i) => {
        const row = Array.from(logits!.data.subarray(i * classes, (i + 1) * classes));
        predictions.push({ logits: row, label: this.task === 'irtr' ? row[0]! : labels[best[i]!]! });
      });
      options.onProgress?.(predictions.length, inputs.length);
    }
    return { predictions, skipped: this.skipped };
  }

  /** Frees the model and the image workers once running calls finish. Idempotent. */
  dispose(): Promise<void> {
    this.disposal ??= (async () => {
      await this.preparer?.close();
      await this.loaded.model.dispose();
    })();
    return this.disposal;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }
}

/** One-shot inference: loads the model, predicts every input, frees the model (a Predictor, used once). */
export async function predict(options: PredictOptions): Promise<PredictResult> {
  // the inputs are checked before the model loads: a mistake in them costs no load
  const inputs = readInputs(options.input, (await plan(options)).fields);
  const predictor = await Predictor.load(options);
  try {
    return await predictor.run(inputs, { onProgress: options.onProgress });
  } finally {
    await predictor.dispose();
  }
}
