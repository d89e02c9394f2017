/** A run directory read back for reports: what it was, what it logged, what it cost. */
import type { GateUpdateRecord } from '../das/index.js';
import { describeArchitecture, scopeLayers } from '../models/architecture.js';
import { checkpointModelConfig } from '../models/pretrained-any.js';
import { modelCost } from '../train/run-model.js';
import { countsHead, type MethodConfig } from '../methods/index.js';
import { RunDir } from '../train/run-dir.js';
import { runMethod, type ResolvedRunConfig } from '../train/runs.js';

/** How a row's skipped layers were chosen: the paper compares DAS with random sampling. */
export type Method = 'DAS search' | 'DAS' | 'random sampling' | 'manual';

export interface RunSummary {
  dir: string;
  config: ResolvedRunConfig;
  method: Method;
  finished: boolean;
  skipped: string[];
  candidates: string[];
  /** Main metrics of a finished training run. */
  metrics?: Record<string, number>;
  gates: GateUpdateRecord[];
  trainLoss: { step: number; loss: number }[];
  choices: { epoch: number; step: number; skipped: string[] }[];
  /** Steps of the warm-up epoch(s) of a search, for the chart marker. */
  warmupEndStep?: number;
  /** FLOPs per example for `input`, and parameters of the DAS model. */
  input: string;
  flops: number;
  baseFlops: number;
  additionalFlops: number;
  /** Updated parameters, head excluded. */
  updatedParams: number;
  /** The parameter-efficient method the run trained with. */
  methodConfig: MethodConfig;
  /** Updated parameters as the paper's tables give them (full tuning: the whole model, head included). */
  tableParams: number;
}

export function readRunSummary(dir: string): RunSummary {
  const run = RunDir.open(dir);
  const config = run.readConfig<ResolvedRunConfig>();
  const metricsLog = run.readLog<Record<string, unknown>>('metrics');
  const gates = run.readLog<GateUpdateRecord>('gates');
  let result: Record<string, unknown> | undefined;
  try {
    result = run.readResult<Record<string, unknown>>();
  } catch {
    result = undefined;
  }
  const choices = metricsLog.filter((m) => m.type === 'choice') as unknown as { epoch: number; step: number; skipped: string[] }[];
  const skipped = (result?.skipped as string[] | undefined) ?? (config.mode === 'search' ? (choices.at(-1)?.skipped ?? []) : (config.skip ?? []));
  const modelConfig = checkpointModelConfig(config.architecture, config.checkpoint, config.task, config.numAnswers);
  const methodConfig = runMethod(config);
  const report = modelCost(config.architecture, modelConfig, skipped, methodConfig);
  const candidates = scopeLayers(describeArchitecture(config.architecture, modelConfig), config.search?.scope ?? 'global');
  const method: Method =
    config.mode === 'search' ? 'DAS search' : config.skipSource?.kind === 'search' ? 'DAS' : config.skipSource?.kind === 'random' ? 'random sampling' : 'manual';
  const firstEpochSteps = metricsLog.filter((m) => m.type === 'train' && m.epoch === 0).length;
  return {
    dir: run.dir,
    config,
    method,
    finished: result !== undefined,
    skipped,
    candidates,
    ...(result?.metrics ? { metrics: result.metrics as Record<string, number> } : {}),
    gates,
    trainLoss: metricsLog.filter((m) => m.type === 'train').map((m) => ({ step: m.step as number, loss: m.loss as number })),
    choices,
    ...(config.mode === 'search' ? { warmupEndStep: firstEpochSteps } : {}),
    input: report.input,
    flops: report.flops,
    baseFlops: report.baseFlops,
    additionalFlops: report.additionalFlops,
    updatedParams: report.params.updated,
    methodConfig,
    tableParams: report.params.updated + (countsHead(methodConfig) ? report.head : 0),
  };
}
