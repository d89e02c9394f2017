/**
 * Analytic FLOPs and parameters of ViLT and METER, in the paper's convention (see
 * flops.ts). Rows are the skippable layers under their paper names (En3; FL2, FV0, LEn6); the
 * totals also hold what no skip can remove (patch embeddings, METER's vision tower, transforms,
 * poolers, head). NLVR2 counts one image-text pass with its head, as the paper's tables do, and
 * reports the per-example cost (two passes, one head) beside it.
 */
import { invalidArgument } from '../errors.js';
import { describeArchitecture, layerNames } from './architecture.js';
import { DEFAULT_METHOD, type MethodConfig } from '../methods/index.js';
import { methodLayers, parameterTotals, type MethodLayers } from '../methods/layer-costs.js';
import {
  bertLayerFlops,
  bertLayerParams,
  checkSkip,
  crossAttentionFlops,
  crossAttentionParams,
  layerNormParams,
  linear,
  linearParams,
  type FlopOptions,
  type FlopReport,
} from './flops.js';
import type { MeterConfig } from './meter-config.js';
import type { ViltConfig, VisionLanguageTask } from './vilt-config.js';

export interface VlFlopReport extends FlopReport {
  /** Image-text passes per example (NLVR2: 2). */
  passes: number;
  /** Rows computed once per example however many passes it takes (METER's language encoder: both NLVR2 passes read the same text). */
  shared: string[];
  /** One whole example: every pass, shared rows once, the head once. */
  perExample: { flops: number; baseFlops: number };
}

interface HeadShape {
  flops: number;
  params: number;
}

/** VQA / NLVR2 classifier or the retrieval rank head (plus the frozen ITM head it starts from) on `pooled` features per pass. */
function taskHead(task: VisionLanguageTask, pooled: number, hidden: number, answers: number): HeadShape {
  if (task === 'vqa') {
    return { flops: linear(1, pooled, 2 * hidden) + linear(1, 2 * hidden, answers), params: linearParams(pooled, 2 * hidden) + layerNormParams(2 * hidden) + linearParams(2 * hidden, answers) };
  }
  if (task === 'nlvr2') {
    return {
      flops: linear(1, 2 * pooled, 2 * hidden) + linear(1, 2 * hidden, 2),
      params: linearParams(2 * pooled, 2 * hidden) + layerNormParams(2 * hidden) + linearParams(2 * hidden, 2),
    };
  }
  return { flops: linear(1, pooled, 1), params: linearParams(pooled, 1) + linearParams(pooled, 2) };
}

function checkTokens(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) throw invalidArgument(name, 'a positive integer', value);
}

function assemble(
  input: string,
  task: VisionLanguageTask,
  method: MethodConfig,
  counted: MethodLayers,
  fixed: number,
  head: HeadShape,
  params: { base: number; task: number },
  shared: string[] = [],
): VlFlopReport {
  const layers = counted.rows;
  const passBase = layers.reduce((sum, l) => sum + l.baseFlops, fixed);
  const passDas = layers.reduce((sum, l) => sum + l.flops, fixed);
  const passes = task === 'nlvr2' ? 2 : 1;
  const once = (key: 'flops' | 'baseFlops') => layers.filter((l) => shared.includes(l.name)).reduce((sum, l) => sum + l[key], 0);
  const flops = passDas + head.flops;
  const baseFlops = passBase + head.flops;
  const totals = parameterTotals(method, params.base, params.task, head.params, counted);
  return {
    input,
    flops,
    baseFlops,
    additionalFlops: flops - baseFlops,
    layers,
    passes,
    shared,
    perExample: {
      flops: passes * passDas - (passes - 1) * once('flops') + head.flops,
      baseFlops: passes * passBase - (passes - 1) * once('baseFlops') + head.flops,
    },
    params: { total: totals.total, updated: totals.updated, base: params.base, head: head.params },
    built: totals.built,
  };
}

/** ViLT on `textTokens` tokens and one image of height x width pixels (default: imageSize square). */
export function viltFlops(config: ViltConfig, options: FlopOptions & { textTokens: number; height?: number; width?: number }): VlFlopReport {
  const { hidden: h, mlp, patchSize: p, task } = config;
  const height = options.height ?? config.imageSize;
  const width = options.width ?? config.imageSize;
  checkTokens('textTokens', options.textTokens);
  checkTokens('image height', height);
  checkTokens('image width', width);
  const patches = Math.floor(height / p) * Math.floor(width / p);
  if (patches < 1) throw invalidArgument('image size', `at least one ${p}x${p} patch`, `${height}x${width}`);
  const tokens = options.textTokens + 1 + patches;
  const descriptor = describeArchitecture('vilt', config);
  const skipped = checkSkip(layerNames(descriptor), options.skip ?? []);
  const method = options.method ?? DEFAULT_METHOD;
  const blockBase = bertLayerFlops(tokens, h, mlp);
  const counted = methodLayers(method, descriptor.layers, skipped, () => ({ flops: blockBase, tokens: { tokens } }), options);
  const fixed = linear(patches, 3 * p * p, h) + linear(1, h, h); // patch embedding, pooler
  const head = taskHead(task, h, h, config.numAnswers);
  const grid = Math.floor(config.imageSize / p);
  const embeddings =
    (config.vocabSize + config.maxTextLen + config.typeVocabSize) * h + layerNormParams(h) + (task === 'nlvr2' ? 3 : 2) * h +
    (3 * p * p * h + h) + h + (grid * grid + 1) * h;
  const taskParts = linearParams(h, h) + (task === 'nlvr2' ? 3 : 2) * h; // pooler, modality table
  const base = embeddings + config.layers * bertLayerParams(h, mlp) + layerNormParams(h) + linearParams(h, h) + head.params;
  const input = `${options.textTokens} text tokens + ${height}x${width} image (${1 + patches} image tokens)`;
  return assemble(input, task, method, counted, fixed, head, { base, task: taskParts });
}

/** Parameters of ViLT as built for search and training: every module and skip adapter present. */
export function viltBuiltParams(config: ViltConfig, method?: MethodConfig): { total: number; updated: number; head: number } {
  const report = viltFlops(config, { textTokens: 1, ...(method ? { method } : {}) });
  return { ...report.built, head: report.params.head };
}

/** METER on `textTokens` tokens and one square image of vision.imageSize. */
export function meterFlops(config: MeterConfig, options: FlopOptions & { textTokens: number }): VlFlopReport {
  const { hidden: h, intermediate, vision: v, text: t, task } = config;
  const T = options.textTokens;
  checkTokens('textTokens', T);
  const grid = v.imageSize / v.patchSize;
  const I = grid * grid + 1;
  const descriptor = describeArchitecture('meter', config);
  const skipped = checkSkip(layerNames(descriptor), options.skip ?? []);
  const method = options.method ?? DEFAULT_METHOD;
  const fusionText = bertLayerFlops(T, h, intermediate) + crossAttentionFlops(T, I, h);
  const fusionImage = bertLayerFlops(I, h, intermediate) + crossAttentionFlops(I, T, h);
  const textLayer = bertLayerFlops(T, t.hidden, t.intermediate);
  const counted = methodLayers(
    method,
    descriptor.layers,
    skipped,
    ({ region, stream }) => {
      if (region !== 'fusion') return { flops: textLayer, tokens: { tokens: T } };
      return stream === 'text' ? { flops: fusionText, tokens: { tokens: T, context: I } } : { flops: fusionImage, tokens: { tokens: I, context: T } };
    },
    options,
  );
  const vision = linear(I - 1, 3 * v.patchSize * v.patchSize, v.hidden) + v.layers * bertLayerFlops(I, v.hidden, v.mlp);
  const fixed = vision + linear(T, t.hidden, h) + linear(I, v.hidden, h) + 2 * linear(1, h, h);
  const head = taskHead(task, 2 * h, h, config.numAnswers);

  const visionParams =
    3 * v.patchSize * v.patchSize * v.hidden + v.hidden + I * v.hidden + 2 * layerNormParams(v.hidden) + v.layers * bertLayerParams(v.hidden, v.mlp);
  const textParams = (t.vocabSize + t.maxPositions + t.typeVocabSize) * t.hidden + layerNormParams(t.hidden) + t.layers * bertLayerParams(t.hidden, t.intermediate);
  const fusionParams = bertLayerParams(h, intermediate) + crossAttentionParams(h);
  const modality = (task === 'nlvr2' ? 3 : 2) * h;
  const classifierToken = config.classifierToken ? h : 0;
  const taskParts = linearParams(t.hidden, h) + linearParams(v.hidden, h) + modality + classifierToken + 2 * linearParams(h, h);
  const base = visionParams + textParams + 2 * config.fusionLayers * fusionParams + taskParts + head.params;
  const input = `${T} text tokens + ${v.imageSize}x${v.imageSize} image (${I} image tokens)`;
  const shared = descriptor.layers.filter((layer) => layer.region === 'text').map((layer) => layer.name);
  return assemble(input, task, method, counted, fixed, head, { base, task: taskParts }, shared);
}

/** Parameters of METER as built: every module and skip adapter present. */
export function meterBuiltParams(config: MeterConfig, method?: MethodConfig): { total: number; updated: number; head: number } {
  const report = meterFlops(config, { textTokens: 1, ...(method ? { method } : {}) });
  return { ...report.built, head: report.params.head };
}
