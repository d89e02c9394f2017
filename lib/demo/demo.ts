/**
 * `das demo`: the whole DAS pipeline on an embedded synthetic task, with nothing downloaded.
 *  1. a coloured-shapes VQA task in ViLT's Arrow format (shapes-dataset.ts) and a WordPiece tokenizer;
 *  2. a small ViLT, pre-trained on it so that its layers carry real function, with two blocks
 *     planted as exact no-ops (pre-LN blocks whose output projections are zero);
 *  3. the DAS search for 2 layers to skip, then adapter training with the chosen layers, and the
 *     random-sampling baseline trained with the same budget;
 *  4. the comparison, and report.html.
 * Every step goes through the same code as real runs: Arrow readers, tokenizer, image transforms,
 * checkpoint files, search(), train(), writeReport().
 */
import fs from 'node:fs';
import path from 'node:path';
import { createImagePreparer } from '../data/image-workers.js';
import { TaskLoader } from '../data/loader.js';
import { openTaskDataset } from '../data/open-dataset.js';
import { writeTinyTokenizer } from '../data/synthetic/tiny-tokenizers.js';
import { TextTokenizer } from '../data/tokenizer.js';
import type { HostTensor } from '../host-tensor.js';
import { Model } from '../models/model.js';
import { VILT_B32, viltConfigToHf, type ViltConfig } from '../models/vilt-config.js';
import { writeSafetensors } from '../native/checkpoint.js';
import { writeReport } from '../report/report.js';
import { evaluateSplit } from '../train/evaluation.js';
import { toModelBatch } from '../train/model-batch.js';
import { modelCost } from '../train/run-model.js';
import { search, train, type TrainRunResult } from '../train/runs.js';
import { SHAPE_ANSWERS, writeShapesDataset } from './shapes-dataset.js';

export const PLANTED = ['En1', 'En4'];

export interface DemoOptions {
  /** Working folder (data, checkpoint, runs, report). Default ./das-demo. */
  dir?: string;
  seed?: number;
  /** Progress lines for people. */
  log?: (line: string) => void;
}

export interface DemoRow {
  method: 'DAS' | 'random sampling';
  skipped: string[];
  vqaScore: number;
  flopsSaved: number;
  updatedParams: number;
}

export interface DemoResult {
  pretrainScore: number;
  searched: string[];
  rows: DemoRow[];
  report: string;
  dir: string;
}

const IMAGE = 64;
const PRETRAIN_EPOCHS = 20;

function demoConfig(vocabSize: number): ViltConfig {
  return {
    ...VILT_B32,
    vocabSize,
    hidden: 64,
    layers: 6,
    heads: 4,
    mlp: 128,
    maxTextLen: 12,
    patchSize: 16,
    imageSize: IMAGE,
    dropout: 0,
    task: 'vqa',
    numAnswers: SHAPE_ANSWERS.length,
    adapterBottleneck: 16,
    skipBottleneck: 32,
  };
}

/** The published-checkpoint layout a user would have: config.json (HF ViLT fields), model.safetensors, tokenizer.json. */
async function saveCheckpoint(model: Model<'vilt'>, dir: string): Promise<void> {
  const hf = viltConfigToHf(model.config);
  fs.writeFileSync(path.join(dir, 'config.json'), `${JSON.stringify(hf, null, 2)}\n`);
  // a pre-trained backbone: no adapters and no task head (DAS trains its own)
  const keep = new Set(model.parameters().filter((p) => !p.head && p.role !== 'method').map((p) => p.name));
  const state = await model.state('all');
  await writeSafetensors(path.join(dir, 'model.safetensors'), Object.fromEntries(Object.entries(state).filter(([name]) => keep.has(name))));
}

/** Pre-trains every weight but the planted blocks' output projections, which stay zero. */
async function pretrain(dir: string, data: string, seed: number, log: (line: string) => void): Promise<number> {
  const tokenizer = await TextTokenizer.load(await writeTinyTokenizer(dir, 'wordpiece'), { maxLength: 12, padding: 'max_length' });
  const model = await Model.create('vilt', demoConfig(tokenizer.vocabSize), { seed });
  const planted = PLANTED.map((name) => Number(name.slice(2)));
  const zeroed = planted.flatMap((i) => ['attn.proj', 'mlp.fc2'].flatMap((p) => [`transformer.blocks.${i}.${p}.weight`, `transformer.blocks.${i}.${p}.bias`]));
  const params = model.parameters();
  const zeros: Record<string, HostTensor> = {};
  for (const p of params.filter((q) => zeroed.includes(q.name))) zeros[p.name] = { dtype: 'float32', shape: p.shape, data: new Float32Array(p.numel) };
  await model.loadState(zeros);
  model.setTrainable(params.filter((p) => !zeroed.includes(p.name) && p.role !== 'method').map((p) => p.name));
  model.configureOptimizer({ weightDecay: 0.01 });
  const common = { tokenizer, batchSize: 32, transform: { kind: 'vilt' as const, size: IMAGE }, preparer: createImagePreparer() };
  const [trainData, valData] = await Promise.all(['train', 'val'].map((split) => openTaskDataset({ task: 'vqa', data, split, model: 'vilt', numAnswers: SHAPE_ANSWERS.length })));
  const loader = new TaskLoader(trainData!, { ...common, shuffle: true, seed });
  const steps = PRETRAIN_EPOCHS * loader.batchesPerEpoch;
  for (let step = 0; step < steps; step++) {
    await model.trainStep(toModelBatch(await loader.next()));
    await model.optimizerStep(step < steps / 10 ? 2e-3 * ((step + 1) / (steps / 10)) : 2e-3 * (1 - step / steps));
    if ((step + 1) % loader.batchesPerEpoch === 0) log(`  pre-training: epoch ${(step + 1) / loader.batchesPerEpoch} of ${PRETRAIN_EPOCHS}`);
  }
  const score = (await evaluateSplit(model, new TaskLoader(valData!, { ...common, shuffle: false, prefetch: 1 }), [])).vqaScore!;
  await saveCheckpoint(model, dir);
  await model.dispose();
  return score;
}

export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const dir = path.resolve(options.dir ?? 'das-demo');
  const seed = options.seed ?? 0;
  const log = options.log ?? (() => {});
  fs.rmSync(path.join(dir, 'runs'), { recursive: true, force: true });
  const data = path.join(dir, 'data');
  const checkpoint = path.join(dir, 'checkpoint');
  fs.mkdirSync(checkpoint, { recursive: true });

  log(`1/5 writing the shapes task (ViLT VQAv2 Arrow files) to ${data}`);
  await writeShapesDataset(data, { images: 160, size: IMAGE, seed: seed + 1 });
  log(`2/5 pre-training a small ViLT (6 blocks; ${PLANTED.join(' and ')} planted as no-ops)`);
  const pretrainScore = await pretrain(checkpoint, data, seed, log);
  log(`    VQA score after pre-training: ${(100 * pretrainScore).toFixed(1)}`);

  const common = {
    architecture: 'vilt' as const, checkpoint, task: 'vqa' as const, data, numAnswers: SHAPE_ANSWERS.length,
    batchSize: 32, effectiveBatch: 32, lr: 2e-3, seed, checkpointEvery: 1000,
  };
  const runs = path.join(dir, 'runs');
  log('3/5 DAS search: which 2 of the 6 blocks can go');
  const found = await search({ ...common, out: path.join(runs, 'das-search'), skipNum: 2, turn: 2 });
  log(`    DAS chose ${found.skipped.join(', ')}`);
  log('4/5 training adapters: with the DAS choice, and with random sampling (same budget)');
  const das = await train({ ...common, out: path.join(runs, 'das-train'), skipFrom: found.runDir, epochs: 3 });
  const random: TrainRunResult[] = [];
  for (const s of [1, 2]) random.push(await train({ ...common, out: path.join(runs, `random-train-${s}`), skipRandom: 2, seed: seed + s, epochs: 3 }));

  log('5/5 writing the report');
  const files = writeReport([found.runDir, das.runDir, ...random.map((r) => r.runDir)], path.join(dir, 'report'));
  const config = JSON.parse(fs.readFileSync(path.join(checkpoint, 'config.json'), 'utf8')) as Record<string, number>;
  const modelConfig = { ...demoConfig(config.vocab_size!) };
  const row = (method: DemoRow['method'], r: TrainRunResult): DemoRow => {
    const cost = modelCost('vilt', modelConfig, r.skipped);
    return { method, skipped: r.skipped, vqaScore: r.metrics.vqaScore!, flopsSaved: -cost.additionalFlops / cost.baseFlops, updatedParams: r.params.updated };
  };
  return { pretrainScore, searched: found.skipped, rows: [row('DAS', das), ...random.map((r) => row('random sampling', r))], report: files.html, dir };
}

export function formatDemo(result: DemoResult): string {
  const lines = [
    '',
    `DAS on the shapes task (ViLT, 6 blocks, 2 skipped; planted no-ops: ${PLANTED.join(', ')})`,
    '',
    'method            skipped     VQA score  FLOPs saved  updated params',
    ...result.rows.map(
      (r) =>
        `${r.method.padEnd(17)} ${r.skipped.join(',').padEnd(10)} ${(100 * r.vqaScore).toFixed(1).padStart(9)}  ${(100 * r.flopsSaved).toFixed(1).padStart(10)}%  ${String(r.updatedParams).padStart(14)}`,
    ),
    '',
    `pre-trained model (nothing skipped, no adapters): VQA score ${(100 * result.pretrainScore).toFixed(1)}`,
    `report: ${result.report}`,
  ];
  return lines.join('\n');
}
