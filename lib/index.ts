/** das-torch: the public API. Everything a Node tool needs is exported from here. */
export { DasError, type DasErrorCode } from './errors.js';
export { DTYPES, hostTensor, isDType, numel, validateHostTensor, type DType, type DTypeArrays, type HostTensor } from './host-tensor.js';
export {
  echoTensor,
  manualSeed,
  matmul,
  normalizeDevice,
  runtimeInfo,
  rngState,
  setNumThreads,
  setRngState,
  timeGemm,
  type GemmTiming,
  type GemmTimingOptions,
  type NativeRuntimeInfo,
} from './native/runtime.js';
export {
  readCheckpoint,
  writeSafetensors,
  type Checkpoint,
  type CheckpointFormat,
  type ReadCheckpointOptions,
} from './native/checkpoint.js';
export type { NativeCheckpoint } from './native/binding.js';
export { doctor, formatDoctor, type DoctorReport } from './doctor/doctor.js';
export { packageVersion as version } from './package-info.js';
export { Model, type Architecture, type ConfigByArchitecture, type ModelOptions, type OptimizerOptions, type OptimizerStepResult, type ParameterCounts, type TrainStepResult } from './models/model.js';
export { PRECISIONS, type GradScalerOptions, type Precision } from './models/precision.js';
export type { BatchSpec, Dim, FieldKind, FieldSpec } from './models/batch-spec.js';
export { ROBERTA_BASE, robertaConfigFromHf, validateRobertaConfig, type RobertaConfig } from './models/roberta-config.js';
export { robertaFlops, type FlopOptions, type FlopReport, type LayerFlops } from './models/flops.js';
export { describeArchitecture, isExecuted, type ArchitectureDescriptor, type LayerDescriptor } from './models/architecture.js';
export {
  resolveMethod,
  METHOD_NAMES,
  type AdapterMethodConfig,
  type BitFitMethodConfig,
  type DasMethodConfig,
  type FullMethodConfig,
  type LoraMethodConfig,
  type LoraTarget,
  type MamMethodConfig,
  type MethodConfig,
  type MethodName,
  type PrefixMethodConfig,
} from './methods/index.js';
export { ADAPTER_NORMS, type AdapterNorm } from './methods/cost.js';
export type { CostOptions, SkipOptions } from './methods/types.js';
export type { LayerRow } from './methods/layer-costs.js';
export { LORA_TARGETS } from './methods/lora/index.js';
export { PREFIX_PROJECTIONS, type PrefixProjection } from './methods/prefix/index.js';
export { loadPeftAdapter, readPeftConfig, savePeftAdapter } from './methods/lora/peft.js';
export { VILT_B32, viltConfigFromHf, viltConfigToHf, validateViltConfig, type ViltConfig, type VisionLanguageTask } from './models/vilt-config.js';
export { METER_CLIP16_ROBERTA, meterConfigFor, meterConfigFromJson, meterConfigToJson, validateMeterConfig, type ClipVisionConfig, type MeterConfig } from './models/meter-config.js';
export { meterBuiltParams, meterFlops, viltBuiltParams, viltFlops, type VlFlopReport } from './models/vl-flops.js';
export type {
  NativeArchitectureDescriptor,
  NativeBatch,
  NativeLayerDescriptor,
  NativeLoadReport,
  NativeParameterInfo,
  NativeProjection,
  NativeStepResult,
} from './native/binding.js';
export { loadPretrainedRoberta, locateCheckpoint, type CheckpointFiles, type Pretrained, type PretrainedOptions } from './models/pretrained.js';
export { checkpointModelConfig, describeCheckpoint, loadPretrained, type AnyPretrained, type AnyPretrainedOptions, type CheckpointDescription } from './models/pretrained-any.js';
export { ROBERTA_TASK_LABELS, type RobertaTask } from './models/presets.js';
export type { ExportSection } from './models/export-format.js';
export { loadAdapters, readAdapterSidecar, saveAdapters, type AdapterSidecar } from './models/adapter-checkpoint.js';
/** The DAS policy: gates, sampling, rewards and the search controller (pure TypeScript). */
export * as das from './das/index.js';
/** Datasets, tokenizers, image preprocessing, batching and metrics (pure TypeScript). */
export * as data from './data/index.js';
/** Data parallel: join the job the environment describes (torchrun, SLURM), or pass a World to runs. */
export { distEnvFrom, type DistEnv, type DistEnvResult } from './dist/env.js';
export { joinWorld, SINGLE_PROCESS, type CollectiveTime, type JoinOptions, type World } from './dist/world.js';
export type { DistributedOptions } from './dist/job.js';
export type { Backend } from './dist/preflight.js';
export { ProcessGroup, type ProcessGroupOptions, type ReduceOp } from './native/process-group.js';
export type { NativeProcessGroup } from './native/binding.js';
export {
  evaluate,
  search,
  train,
  type EvaluateOptions,
  type ParamsSummary,
  type ResolvedRunConfig,
  type RunOptions,
  type SearchOptions,
  type SearchRunResult,
  type SkipSource,
  type TrainOptions,
  type TrainRunResult,
} from './train/runs.js';
export type { Arch, Task } from './train/task-settings.js';
export type { EvalMetrics } from './train/evaluation.js';
export type { ProgressEvent } from './train/loop.js';
/** Serving: inference on any checkpoint, and the compact export of a DAS run. */
export { predict, Predictor, type Prediction, type PredictOptions, type PredictorOptions, type PredictResult } from './serve/predict.js';
export type { PredictInput } from './serve/predict-input.js';
export { exportRun, EXPORT_FILES, type ExportOptions, type ExportResult } from './serve/export.js';
