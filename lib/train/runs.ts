/**
 * The run-level API that the CLI and other Node tools call: search() finds the layers to skip,
 * train() trains the adapters with a fixed skip set, evaluate() scores a finished run. Each run
 * lives in a run directory (run-dir.ts) and can be resumed exactly after a crash or an abort.
 * Every run is data-parallel when the process is a rank of a job (lib/dist): each rank runs the
 * same code on its shard of the data; rank 0 alone writes the run directory.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DasError, invalidArgument } from '../errors.js';
import { TaskLoader } from '../data/loader.js';
import { openTaskDataset } from '../data/open-dataset.js';
import { TextTokenizer } from '../data/tokenizer.js';
import type { TaskDataset } from '../data/dataset-types.js';
import { SEARCH_POLICY_DEFAULTS } from '../das/search-config.js';
import { randomSkipSet, resolveSkipSet, SearchPolicy, skipSetNames, type SearchResult } from '../das/index.js';
import { inWorld, type DistributedOptions } from '../dist/job.js';
import { assertSameWorldSize, type World } from '../dist/world.js';
import { deriveSeed } from '../data/random.js';
import { loadAdapters, saveAdapters } from '../models/adapter-checkpoint.js';
import type { Model } from '../models/model.js';
import { runPrecision, validatePrecision, type Precision } from '../models/precision.js';
import { manualSeed, normalizeDevice } from '../native/runtime.js';
import { resolveRunMethod } from '../methods/run-method.js';
import type { MethodConfig, MethodName } from '../methods/index.js';
import { checkpointLayerNames, exportedSection, loadPretrained } from '../models/pretrained-any.js';
import { locateCheckpoint } from '../models/pretrained.js';
import { createImagePreparer } from '../data/image-workers.js';
import type { LoaderConfig } from '../data/loader.js';
import { imageTransform, modelCost, numAnswers, tokenizerSettings } from './run-model.js';
import { evaluateSplit, mainMetric, type EvalMetrics } from './evaluation.js';
import { retrievalRecallMetrics } from './retrieval-eval.js';
import { initialLoopState, runLoop, stepsPerEpoch, type ProgressEvent } from './loop.js';
import { reconcileResume } from './resume-settings.js';
import { RunDir } from './run-dir.js';
import { datasetLabelNames } from './task-labels.js';
import { taskSettings, type Arch, type Task } from './task-settings.js';
import { loadTrainingCheckpoint, type LoopState } from './train-checkpoint.js';

export interface RunOptions extends DistributedOptions {
  architecture: Arch;
  /** Pre-trained checkpoint: a weights file, or a folder with config.json, weights and tokenizer.json. */
  checkpoint: string;
  task: Task;
  /** Dataset folder. */
  data: string;
  /** Run directory. Default runs/<mode>-<architecture>-<task>-<time>. */
  out?: string;
  /** Continue the run in `out` from its last checkpoint. */
  resume?: boolean;
  /** Default cpu. */
  device?: string;
  /**
   * Compute precision: fp32 (default), bf16 (CPU and CUDA) or fp16 (CUDA). A resumed run keeps the
   * precision it was started with; asking for another one is an error.
   */
  precision?: Precision;
  /** Seeds data order, initialisation, dropout and the policy. Default 0. */
  seed?: number;
  /** Peak learning rate. Default per model and task. */
  lr?: number;
  epochs?: number;
  /** Per-step batch of each rank; gradient accumulation makes up the effective batch. */
  batchSize?: number;
  /** Examples per optimizer step, all ranks together (batch size x ranks x accumulation). Default per model and task. */
  effectiveBatch?: number;
  /** tokenizer.json. Default: the one beside the checkpoint. */
  tokenizer?: string;
  /** Optimizer steps between checkpoints. Default 50. */
  checkpointEvery?: number;
  /** VQA: answer vocabulary size (default 3129, VQAv2's). */
  numAnswers?: number;
  /** The parameter-efficient method (name or { name, ...options }). Default das. */
  method?: MethodName | Partial<MethodConfig>;
  /** Stops at the next step boundary, leaving a resumable checkpoint. */
  signal?: AbortSignal;
  onProgress?: (event: ProgressEvent) => void;
  /**
   * Notices for people: a stale run-folder lock taken over, a run started over, a resume that
   * changed the device or where the files are. Default: process.emitWarning.
   */
  onWarning?: (message: string) => void;
}

export interface SearchOptions extends RunOptions {
  /** k: layers to skip. */
  skipNum: number;
  /** Candidate scope. Default global. */
  scope?: string;
  turn?: number;
  samples?: number;
  gateLr?: number;
}

export interface TrainOptions extends RunOptions {
  skip?: string[];
  /** Take the skipped layers from a finished search run. */
  skipFrom?: string;
  /** The random-sampling baseline: skip this many layers chosen uniformly at random (seeded by `seed`). */
  skipRandom?: number;
}

/** Where a training run's skipped layers came from, for reports. */
export type SkipSource = { kind: 'manual' } | { kind: 'search'; run: string } | { kind: 'random'; k: number; seed: number };

export interface ParamsSummary {
  total: number;
  updated: number;
}

export interface SearchRunResult extends SearchResult {
  runDir: string;
}

export interface TrainRunResult {
  metrics: EvalMetrics;
  best?: { metric: string; value: number; step: number };
  skipped: string[];
  params: ParamsSummary;
  runDir: string;
}

/** Everything a run was started with, as config.json records it. */
export interface ResolvedRunConfig {
  mode: 'search' | 'train';
  architecture: Arch;
  checkpoint: string;
  tokenizer: string;
  task: Task;
  data: string;
  device: string;
  /** Absent in runs written before precisions existed: those ran in fp32. */
  precision?: Precision;
  seed: number;
  lr: number;
  epochs: number;
  /** Per rank. */
  batchSize: number;
  accumulation: number;
  /** The ranks of a data-parallel run (absent in runs of one process made before it was recorded). */
  world?: { size: number; backend?: string };
  headLrMultiplier: number;
  weightDecay: number;
  warmupFraction: number;
  checkpointEvery: number;
  maxTextLength: number;
  /** VQA answer vocabulary size when it is not the model's default. */
  numAnswers?: number;
  /** The method with every option resolved; a run written before methods existed reads as das. */
  method?: MethodConfig;
  skip?: string[];
  skipSource?: SkipSource;
  search?: { skipNum: number; scope: string; turn?: number; samples?: number; gateLr?: number };
}

function positiveInteger(value: number | undefined, name: string): void {
  if (value !== undefined && (!Number.isInteger(value) || value < 1)) throw invalidArgument(name, 'a positive integer', value);
}

/**
 * Per-rank batch and accumulation for an effective batch over `ranks` ranks. By default the task's
 * effective batch (the paper's) stays what it is whatever the number of ranks: each rank's batch is
 * the task's, or less when the ranks together would pass the effective batch in one step.
 */
export function batchPlan(settings: { batchSize: number; effectiveBatch: number }, ranks: number, batchSize?: number, effectiveBatch?: number): { batchSize: number; accumulation: number } {
  const effective = effectiveBatch ?? (batchSize === undefined ? settings.effectiveBatch : Math.max(batchSize * ranks, settings.effectiveBatch));
  let perRank = batchSize;
  if (perRank === undefined) {
    perRank = Math.min(settings.batchSize, Math.max(1, Math.floor(effective / ranks)));
    while (perRank > 1 && effective % (perRank * ranks) !== 0) perRank--;
  }
  const perStep = perRank * ranks;
  if (effective % perStep !== 0) {
    if (batchSize === undefined) throw invalidArgument('effective batch', `a multiple of the ${ranks} ranks (set --effective-batch and --batch-size to fit them)`, effective);
    const across = ranks === 1 ? `the batch size ${perRank}` : `the batch size ${perRank} x ${ranks} ranks = ${perStep}`;
    throw invalidArgument('effective batch', `a multiple of ${across}`, effective);
  }
  return { batchSize: perRank, accumulation: effective / perStep };
}

function resolveConfig(mode: 'search' | 'train', options: RunOptions, world: World): ResolvedRunConfig {
  const settings = taskSettings(options.architecture, options.task);
  for (const key of ['epochs', 'batchSize', 'effectiveBatch', 'checkpointEvery'] as const) positiveInteger(options[key], key);
  if (options.lr !== undefined && !(options.lr > 0 && Number.isFinite(options.lr))) throw invalidArgument('lr', 'a positive number', options.lr);
  const device = options.device ?? 'cpu'; // recorded as asked: "cuda" means each rank's own GPU
  const precision = validatePrecision(options.precision ?? 'fp32', normalizeDevice(device));
  const { batchSize, accumulation } = batchPlan(settings, world.size, options.batchSize, options.effectiveBatch);
  const checkpoint = path.resolve(options.checkpoint);
  locateCheckpoint(checkpoint); // a missing checkpoint is named as such, before its tokenizer is looked for
  const tokenizer = path.resolve(options.tokenizer ?? path.join(fs.existsSync(checkpoint) && fs.statSync(checkpoint).isDirectory() ? checkpoint : path.dirname(checkpoint), 'tokenizer.json'));
  if (!fs.existsSync(tokenizer)) throw new DasError('DAS_FILE', `no tokenizer: ${tokenizer} does not exist (pass --tokenizer)`);
  return {
    mode,
    architecture: options.architecture,
    checkpoint,
    tokenizer,
    task: options.task,
    data: path.resolve(options.data),
    device,
    precision,
    seed: options.seed ?? 0,
    lr: options.lr ?? settings.lr,
    epochs: options.epochs ?? (mode === 'search' ? settings.searchEpochs : settings.epochs),
    batchSize,
    accumulation,
    world: { size: world.size, ...(world.backend ? { backend: world.backend } : {}) },
    headLrMultiplier: settings.headLrMultiplier,
    weightDecay: settings.weightDecay,
    warmupFraction: settings.warmupFraction,
    checkpointEvery: options.checkpointEvery ?? 50,
    maxTextLength: 512,
    ...(options.numAnswers ? { numAnswers: options.numAnswers } : {}),
  };
}

/** The method a run was started with (runs from before methods existed: das). */
export function runMethod(config: ResolvedRunConfig): MethodConfig {
  return config.method ?? { name: 'das' };
}

/** A resume keeps the run's method; asking for another one is refused, naming both. */
function checkResumeMethod(dir: string, config: ResolvedRunConfig, asked: RunOptions['method']): void {
  if (asked === undefined) return;
  const stored = runMethod(config) as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(typeof asked === 'string' ? { name: asked } : asked)) {
    if (JSON.stringify(stored[key]) !== JSON.stringify(value)) {
      throw new DasError('DAS_INVALID_ARGUMENT', `${dir} was started with method.${key} ${JSON.stringify(stored[key])}; --resume keeps the run's method (asked for ${JSON.stringify(value)})`);
    }
  }
}

function defaultRunDir(mode: string, options: RunOptions): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return path.join('runs', `${mode}-${options.architecture}-${options.task}-${stamp}`);
}

const emitWarning = (message: string) => process.emitWarning(message, 'DasWarning');

/** What every rank must agree on; paths may differ from machine to machine. */
function comparable(config: ResolvedRunConfig): Record<string, unknown> {
  const { checkpoint: _checkpoint, tokenizer: _tokenizer, data: _data, ...rest } = config;
  return rest;
}

interface OpenedRun {
  runDir: RunDir;
  config: ResolvedRunConfig;
  /** Continues from the run's last checkpoint (false: starts from step 0). */
  resumed: boolean;
}

/**
 * Rank 0's part of opening a run: a fresh run directory with its config, or the stored config of a
 * run being resumed; either way the folder is locked until the run's close(). A resume of a run
 * that never reached its first checkpoint starts it over.
 */
function openRunFolder(mode: 'search' | 'train', options: RunOptions, world: World, built: ResolvedRunConfig | undefined, build: () => ResolvedRunConfig): OpenedRun {
  const onWarning = options.onWarning ?? emitWarning;
  if (!options.resume) {
    const runDir = RunDir.create(options.out ?? defaultRunDir(mode, options), { onWarning });
    try {
      runDir.writeConfig(built);
    } catch (error) {
      runDir.close();
      throw error;
    }
    return { runDir, config: built!, resumed: false };
  }
  const { runDir, fresh } = RunDir.resume(options.out!, { onWarning });
  try {
    if (fresh) {
      const config = build();
      runDir.writeConfig(config);
      return { runDir, config, resumed: false };
    }
    const stored = runDir.readConfig<ResolvedRunConfig>();
    if (stored.mode !== mode) throw new DasError('DAS_INVALID_ARGUMENT', `${runDir.dir} is a ${stored.mode} run, not a ${mode} run`);
    checkResumeMethod(runDir.dir, stored, options.method);
    assertSameWorldSize(runDir.dir, stored.world?.size ?? 1, world.size);
    const { config, applied } = reconcileResume(stored, options, runDir.dir);
    if (applied.length) {
      onWarning(`resuming ${runDir.dir} with ${applied.join('; ')}`);
      runDir.writeConfig(config);
    }
    return { runDir, config, resumed: true };
  } catch (error) {
    runDir.close();
    throw error;
  }
}

/**
 * Opens a run on every rank: each checks the options (every one before a folder is touched), rank 0
 * creates or opens the directory, and the other ranks, once they are known to have been started the
 * same way, take rank 0's directory and config (writing nothing).
 */
async function openRun(mode: 'search' | 'train', options: RunOptions, world: World, build: () => ResolvedRunConfig): Promise<OpenedRun> {
  if (options.resume && options.out === undefined) throw invalidArgument('--out', 'the run directory to resume', options.out);
  const built = await world.agree('to check the options', () => (options.resume ? undefined : build()));
  if (built) await world.checkSame('the run configuration', comparable(built));
  let opened: OpenedRun | undefined;
  try {
    const shared = await world.agree('to open the run directory', () => {
      if (!world.isMain) return undefined;
      opened = openRunFolder(mode, options, world, built, build);
      return { dir: opened.runDir.dir, config: opened.config, resumed: opened.resumed };
    });
    const main = await world.fromMain('the run directory', shared);
    return opened ?? { runDir: RunDir.follower(main!.dir), config: main!.config, resumed: main!.resumed };
  } catch (error) {
    opened?.runDir.close();
    throw error;
  }
}

/** Runs `work` on an opened run, and releases the run folder whatever happens. */
async function withRun<T>(run: OpenedRun, work: () => Promise<T>): Promise<T> {
  try {
    const result = await work();
    run.runDir.close({ finished: true });
    return result;
  } finally {
    run.runDir.close();
  }
}

/** The device a run asks for: a resumed run keeps the one it was started with. */
function requestedDevice(options: { resume?: boolean; out?: string; device?: string }): string {
  const stored = options.resume && options.out ? path.join(options.out, 'config.json') : undefined;
  try {
    const device = stored && (JSON.parse(fs.readFileSync(stored, 'utf8')) as { device?: unknown }).device;
    if (typeof device === 'string') return device;
  } catch {
    // no readable config: opening the run says what is wrong with it
  }
  return options.device ?? 'cpu';
}

interface Setup {
  model: Model;
  tokenizer: TextTokenizer;
  trainData: TaskDataset;
  valData: TaskDataset;
  /** Loader settings shared by every loader of the run (tokenizer, images). */
  common: Omit<LoaderConfig, 'batchSize'>;
  world: World;
}

/** Loader settings for a model: its tokenizer, and its image transform where it takes images. */
function loaderSettings(model: Model, tokenizer: TextTokenizer): Omit<LoaderConfig, 'batchSize'> {
  const transform = imageTransform(model);
  return { tokenizer, ...(transform ? { transform, preparer: createImagePreparer() } : {}) };
}

/** The model, tokenizer and data of a run, opened before any work so that a missing file fails first. */
async function openModelAndData(config: ResolvedRunConfig, data: string, splits: string[], device: string, precision = runPrecision(config)): Promise<Omit<Setup, 'trainData' | 'valData' | 'world'> & { datasets: TaskDataset[] }> {
  const { model } = await loadPretrained(config.architecture, config.checkpoint, { task: config.task, device, precision, seed: config.seed, numAnswers: config.numAnswers, method: runMethod(config) });
  const settings = tokenizerSettings(model);
  config.maxTextLength = settings.maxLength!;
  const tokenizer = await TextTokenizer.load(config.tokenizer, settings);
  const vocab = (model.config as { vocabSize?: number; text?: { vocabSize: number } }).vocabSize ?? (model.config as { text: { vocabSize: number } }).text.vocabSize;
  if (tokenizer.vocabSize > vocab) throw new DasError('DAS_CHECKPOINT', `${config.tokenizer} has ${tokenizer.vocabSize} tokens but the model's vocabulary holds ${vocab}`);
  const datasets = await Promise.all(splits.map((split) => openTaskDataset({ task: config.task, data, split, model: config.architecture, numAnswers: numAnswers(model) })));
  return { model, tokenizer, datasets, common: loaderSettings(model, tokenizer) };
}

/**
 * The model and data of a search or training run (every rank loads them, or all fail with the
 * reason of the rank that could not); records the head's class names in the run.
 */
async function setUp(config: ResolvedRunConfig, runDir: RunDir, world: World, device: string): Promise<Setup> {
  let setup: Setup | undefined;
  try {
    await world.agree('to load the model and data', async () => {
      const { datasets, ...rest } = await openModelAndData(config, config.data, ['train', 'val'], device);
      setup = { ...rest, trainData: datasets[0]!, valData: datasets[1]!, world };
      const labels = datasetLabelNames(datasets);
      if (labels) runDir.writeLabels(labels);
      await rest.model.configureOptimizer({ weightDecay: config.weightDecay, headLrMultiplier: config.headLrMultiplier });
    });
  } catch (error) {
    await setup?.model.dispose();
    throw error;
  }
  // the ranks share the initialisation, then each draws its own dropout masks
  if (world.rank > 0) manualSeed(deriveSeed(config.seed, world.rank));
  return setup!;
}

/** This rank's part of every epoch: its shard, padded to equal length for training, exact for evaluation. */
function shardOf(world: World, pad: boolean): Pick<LoaderConfig, 'shard'> {
  return world.size > 1 ? { shard: { rank: world.rank, count: world.size, pad } } : {};
}

function loaders(config: ResolvedRunConfig, setup: Setup): { train: TaskLoader; val: TaskLoader } {
  const shard = shardOf(setup.world, true);
  return {
    train: new TaskLoader(setup.trainData, { ...setup.common, ...shard, batchSize: config.batchSize, shuffle: true, seed: config.seed }),
    val: new TaskLoader(setup.valData, { ...setup.common, ...shard, batchSize: config.batchSize, shuffle: true, seed: config.seed + 1 }),
  };
}

function evaluator(config: ResolvedRunConfig, setup: Setup, data = setup.valData): (skip: readonly string[]) => Promise<EvalMetrics> {
  const loader = () => new TaskLoader(data, { ...setup.common, ...shardOf(setup.world, false), batchSize: config.batchSize, shuffle: false, prefetch: 1 });
  return (skip) => evaluateSplit(setup.model, loader(), skip, setup.world);
}

function paramsOf(model: Model, skip: readonly string[]): ParamsSummary {
  return modelCost(model.architecture, model.config, skip, model.method).params;
}

/** The DAS search: which `skipNum` layers the task needs least. */
export async function search(options: SearchOptions): Promise<SearchRunResult> {
  const search = { skipNum: options.skipNum, scope: options.scope ?? 'global', turn: options.turn, samples: options.samples, gateLr: options.gateLr };
  return asRun('search', options, (world) => {
    const config = { ...resolveConfig('search', options, world), method: resolveRunMethod(options.method, { mode: 'search' }), search };
    checkRewardRounds(config, Infinity); // what needs no data fails before a folder is made
    return config;
  }, runSearch);
}

/**
 * A search or training run as this process's rank: joins the job, opens the run directory and the
 * model and data, runs `body`, frees the model and releases the folder however it ends.
 */
async function asRun<O extends RunOptions, R>(
  mode: 'search' | 'train',
  options: O,
  build: (world: World) => ResolvedRunConfig,
  body: (options: O, run: OpenedRun, setup: Setup) => Promise<R>,
): Promise<R> {
  return inWorld(requestedDevice(options), options, async (world, device) => {
    const run = await openRun(mode, options, world, () => build(world));
    return withRun(run, async () => {
      const setup = await setUp(run.config, run.runDir, world, device);
      try {
        return await body(options, run, setup);
      } finally {
        await setup.model.dispose();
      }
    });
  });
}

/**
 * Refuses a search schedule that would never update the gates, or updates that cannot move them:
 * its "choice" would be the first k candidates. `perEpoch`: optimizer steps an epoch (Infinity
 * before the data is open).
 */
function checkRewardRounds(config: ResolvedRunConfig, perEpoch: number): void {
  const { epochs } = config;
  const { warmupEpochs } = SEARCH_POLICY_DEFAULTS;
  const { turn = SEARCH_POLICY_DEFAULTS.turn, samples = SEARCH_POLICY_DEFAULTS.samples } = config.search!;
  if (samples < 2) throw invalidArgument('--samples', 'at least 2 (with one subnetwork per round every advantage is 0 and the gates never move)', samples);
  if (epochs <= warmupEpochs) {
    throw new DasError('DAS_INVALID_ARGUMENT', `this search would make no reward update: its ${epochs} epoch(s) are all warm-up (no reward rounds); use --epochs ${warmupEpochs + 1} or more`);
  }
  const steps = (epochs - warmupEpochs) * perEpoch;
  if (steps < turn) {
    throw new DasError(
      'DAS_INVALID_ARGUMENT',
      `this search would make no reward update: after the warm-up epoch it trains ${steps} steps (${epochs - warmupEpochs} epoch(s) of ${perEpoch}), ` +
        `fewer than the ${turn} steps between reward rounds (--turn); raise --epochs or lower --turn`,
    );
  }
}

/** Continues from the run's last checkpoint (every rank reads it), then starts the ranks from rank 0's parameters. */
async function resumeAndAttach({ runDir, resumed }: OpenedRun, setup: Setup, fresh: LoopState): Promise<LoopState> {
  let state = fresh;
  if (resumed) {
    state = await loadTrainingCheckpoint(runDir.lastCheckpoint, setup.model, setup.world);
    runDir.truncateLog('metrics', state.metricsLines);
    runDir.truncateLog('gates', state.gatesLines);
  }
  await setup.world.attach(setup.model);
  return state;
}

async function runSearch(options: SearchOptions, run: OpenedRun, setup: Setup): Promise<SearchRunResult> {
  const { runDir, config, resumed } = run;
  const { train, val } = loaders(config, setup);
  const s = config.search!;
  const candidates = setup.model.layerNames(s.scope);
  const fresh = () =>
    new SearchPolicy({ candidates, skipNum: s.skipNum, epochs: config.epochs, turn: s.turn, samples: s.samples, gateLr: s.gateLr, seed: config.seed });
  checkRewardRounds(config, stepsPerEpoch(train, config.accumulation));
  let policy = fresh(); // validates k, scope and the schedule before any training
  const state = await resumeAndAttach(run, setup, initialLoopState(train, val, policy));
  if (resumed) policy = SearchPolicy.fromState(state.policy!);
  await runLoop(
    { model: setup.model, train, val, runDir, epochs: config.epochs, accumulation: config.accumulation, peakLr: config.lr, warmupFraction: config.warmupFraction, checkpointEvery: config.checkpointEvery, policy, signal: options.signal, onProgress: options.onProgress, world: setup.world },
    state,
  );
  const result: SearchRunResult = { ...policy.result(), runDir: runDir.dir };
  if (setup.world.isMain) await saveAdapters(setup.model, runDir.adaptersDir, { skipped: result.skipped, task: config.task });
  runDir.writeResult({ mode: 'search', ...result });
  return result;
}

function skipFromRun(dir: string): string[] {
  const result = RunDir.open(dir).readResult<{ skipped?: unknown }>();
  if (!Array.isArray(result.skipped)) throw new DasError('DAS_FILE', `${dir}/result.json has no "skipped" list`);
  return result.skipped as string[];
}

/** Adapter training with a fixed skip set, from the pre-trained checkpoint. */
function chooseSkip(options: TrainOptions, seed: number): { skip: string[]; skipSource: SkipSource } {
  const given = [options.skip, options.skipFrom, options.skipRandom].filter((v) => v !== undefined).length;
  if (given > 1) throw invalidArgument('--skip / --skip-from / --skip-random', 'at most one of them', `${given} of them`);
  if (options.skipFrom) return { skip: skipFromRun(options.skipFrom), skipSource: { kind: 'search', run: path.resolve(options.skipFrom) } };
  if (options.skipRandom !== undefined) {
    const layers = checkpointLayerNames(options.architecture, options.checkpoint);
    return { skip: randomSkipSet(layers, options.skipRandom, seed), skipSource: { kind: 'random', k: options.skipRandom, seed } };
  }
  if (!options.skip) return { skip: [], skipSource: { kind: 'manual' } };
  // unknown and repeated names fail before a run folder is made
  const layers = checkpointLayerNames(options.architecture, options.checkpoint);
  return { skip: skipSetNames(layers, resolveSkipSet(layers, options.skip, 'the skipped layers')), skipSource: { kind: 'manual' } };
}

export async function train(options: TrainOptions): Promise<TrainRunResult> {
  return asRun(
    'train',
    options,
    (world) => {
      const resolved = resolveConfig('train', options, world);
      const chosen = chooseSkip(options, resolved.seed);
      return { ...resolved, method: resolveRunMethod(options.method, { mode: 'train', skip: chosen.skip }), ...chosen };
    },
    runTraining,
  );
}

async function runTraining(options: TrainOptions, run: OpenedRun, setup: Setup): Promise<TrainRunResult> {
  const { runDir, config } = run;
  const skip = config.skip ?? [];
  const layers = setup.model.layerNames();
  setup.model.setSkipped(skip); // unknown or repeated names fail here, before any step
  if (skip.length >= layers.length) throw invalidArgument('skip', `fewer than ${layers.length} layers`, skip.length);
  const { train: trainLoader, val } = loaders(config, setup);
  stepsPerEpoch(trainLoader, config.accumulation);
  const state = await resumeAndAttach(run, setup, initialLoopState(trainLoader, val));
  const { world } = setup;
  const metric = mainMetric(config.task);
  const evaluate = evaluator(config, setup);
  const save = async (dir: string) => {
    if (world.isMain) await saveAdapters(setup.model, dir, { skipped: skip, task: config.task });
  };
  await runLoop(
    {
      model: setup.model, train: trainLoader, val, runDir, epochs: config.epochs, accumulation: config.accumulation, peakLr: config.lr,
      warmupFraction: config.warmupFraction, checkpointEvery: config.checkpointEvery, skip, evaluate, metric,
      onBest: () => save(runDir.bestAdaptersDir),
      signal: options.signal, onProgress: options.onProgress, world,
    },
    state,
  );
  await save(runDir.adaptersDir);
  // the last evaluation is in rank 0's log (a run resumed after its end has not evaluated in this process)
  type EvalRecord = { type: string; step: number; epoch: number; skip: string[] } & EvalMetrics;
  const logged = world.isMain ? runDir.readLog<EvalRecord>('metrics').filter((r) => r.type === 'eval').pop() : undefined;
  const last = await world.fromMain('the last evaluation', logged ?? null);
  const { type: _type, step: _step, epoch: _epoch, skip: _skip, ...metrics } = last ?? { type: 'eval', step: 0, epoch: 0, skip, ...(await evaluate(skip)) };
  const result: TrainRunResult = { metrics: metrics as EvalMetrics, ...(state.best ? { best: state.best } : {}), skipped: skip, params: paramsOf(setup.model, skip), runDir: runDir.dir };
  runDir.writeResult({ mode: 'train', ...result });
  return result;
}

export interface EvaluateOptions extends DistributedOptions {
  /** A finished (or stopped) run directory ... */
  run?: string;
  /** ... or a DAS model written by `das export` (then `data` is required). */
  checkpoint?: string;
  /** Dataset folder. Default: the run's. */
  data?: string;
  /** Default val. */
  split?: string;
  /** Which adapters of a run: the best evaluation's (default when there is one) or the final ones. */
  adapters?: 'best' | 'final';
  /** Per rank. */
  batchSize?: number;
  /** Compute precision. Default: the run's; fp32 for an exported model. */
  precision?: Precision;
  /** Default: the run's device; cpu for an exported model. */
  device?: string;
  /** Retrieval: progress of the full image x caption ranking (this rank's share of it). */
  onProgress?: (pairsDone: number, pairsTotal: number) => void;
}

/**
 * Every metric of a split: loss and the task metric over one pass, and for retrieval also
 * Recall@1/5/10 from the full image x caption ranking. Each rank scores its shard.
 */
async function scoreSplit(model: Model, data: TaskDataset, settings: Omit<LoaderConfig, 'batchSize'>, skip: readonly string[], world: World, options: { batchSize: number; onProgress?: EvaluateOptions['onProgress'] }): Promise<EvalMetrics> {
  const metrics = await evaluateSplit(model, new TaskLoader(data, { ...settings, ...shardOf(world, false), batchSize: options.batchSize, shuffle: false, prefetch: 1 }), skip, world);
  if (data.task !== 'irtr') return metrics;
  const recall = await retrievalRecallMetrics(model, data, { ...settings, seed: 0, epoch: 0 }, skip, options, world);
  return { ...metrics, ...recall };
}

/** What an evaluation scores: a model with its adapters, the split, and how to batch it. */
interface Scored {
  model: Model;
  data: TaskDataset;
  settings: Omit<LoaderConfig, 'batchSize'>;
  skip: string[];
  batchSize: number;
  runDir: string;
}

/** Disposes `model` when `work` fails, so that a half-opened evaluation leaks nothing. */
async function orDispose<T>(model: Model, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    await model.dispose();
    throw error;
  }
}

async function openExport(options: EvaluateOptions, device: string): Promise<Scored> {
  const checkpoint = options.checkpoint!;
  const exported = exportedSection(checkpoint);
  if (!exported) throw new DasError('DAS_INVALID_ARGUMENT', `${checkpoint} is not an exported DAS model (config.json has no "das" section); evaluate a run with --run`);
  if (!options.data) throw invalidArgument('--data', 'the dataset folder (required with --checkpoint)', options.data);
  const { model, files } = await loadPretrained(exported.architecture, checkpoint, { task: exported.task, device, precision: options.precision });
  return orDispose(model, async () => {
    if (!files.tokenizer) throw new DasError('DAS_FILE', `${checkpoint} has no tokenizer.json`);
    const tokenizer = await TextTokenizer.load(files.tokenizer, tokenizerSettings(model));
    const data = await openTaskDataset({ task: exported.task as Task, data: options.data!, split: options.split ?? 'val', model: exported.architecture, numAnswers: numAnswers(model) });
    return { model, data, settings: loaderSettings(model, tokenizer), skip: exported.skipped, batchSize: options.batchSize ?? 32, runDir: path.resolve(checkpoint) };
  });
}

async function openRunAdapters(options: EvaluateOptions, device: string): Promise<Scored> {
  const runDir = RunDir.open(options.run!);
  const config = runDir.readConfig<ResolvedRunConfig>();
  const dir = runDir.adaptersFor(options.adapters);
  const { model, datasets, common } = await openModelAndData(config, options.data ?? config.data, [options.split ?? 'val'], device, options.precision ?? runPrecision(config));
  return orDispose(model, async () => {
    const sidecar = await loadAdapters(model, dir);
    return { model, data: datasets[0]!, settings: common, skip: sidecar.skipped, batchSize: options.batchSize ?? config.batchSize, runDir: runDir.dir };
  });
}

/** Scores the adapters of a run, or an exported DAS model, on a split (data-parallel in a job). */
export async function evaluate(options: EvaluateOptions): Promise<TrainRunResult> {
  if ((options.run === undefined) === (options.checkpoint === undefined)) throw invalidArgument('--run / --checkpoint', 'exactly one of them', 'both or neither');
  const device = options.device ?? (options.run ? requestedDevice({ resume: true, out: options.run }) : 'cpu');
  return inWorld(device, options, async (world, rankDevice) => {
    let scored: Scored | undefined;
    await world.agree('to load the model and data', async () => {
      scored = options.checkpoint ? await openExport(options, rankDevice) : await openRunAdapters(options, rankDevice);
    }).catch(async (error: unknown) => {
      await scored?.model.dispose();
      throw error;
    });
    const { model, data, settings, skip, batchSize, runDir } = scored!;
    try {
      const metrics = await scoreSplit(model, data, settings, skip, world, { batchSize, onProgress: options.onProgress });
      return { metrics, skipped: skip, params: paramsOf(model, skip), runDir };
    } finally {
      await model.dispose();
    }
  });
}
