/** The options search and train share, and their translation into RunOptions. */
import { Option, type Command } from 'commander';
import type { Precision } from '../../models/precision.js';
import type { RunOptions } from '../../train/runs.js';
import type { Arch, Task } from '../../train/task-settings.js';
import { addDistOptions, distOptionsFrom, type DistFlags } from '../dist-flags.js';
import { ARCHITECTURES, integer, positiveNumber, precisionOption, TASKS } from '../options.js';
import { addMethodOptions, methodFromFlags, type MethodFlags } from './method-flags.js';

export interface RunFlags extends DistFlags, MethodFlags {
  model: Arch;
  checkpoint: string;
  task: Task;
  data: string;
  out?: string;
  resume?: boolean;
  device?: string;
  precision?: Precision;
  seed?: number;
  lr?: number;
  epochs?: number;
  batchSize?: number;
  effectiveBatch?: number;
  tokenizer?: string;
  checkpointEvery?: number;
  json?: boolean;
}

export function addRunOptions(command: Command, help: { epochsHelp: string; methodHelp: string }): Command {
  command
    .addOption(new Option('--model <arch>', 'architecture').choices(ARCHITECTURES).makeOptionMandatory())
    .requiredOption('--checkpoint <path>', 'pre-trained weights: a file, or a folder with config.json, weights and tokenizer.json')
    .addOption(new Option('--task <task>', 'downstream task').choices(TASKS).makeOptionMandatory())
    .requiredOption('--data <dir>', 'dataset folder')
    .option('--epochs <n>', help.epochsHelp, integer(1))
    .option('--lr <x>', 'peak learning rate (warm-up over 10% of steps, then linear decay); default per model and task', positiveNumber)
    .option('--batch-size <n>', 'examples per micro-batch (per rank when data parallel)', integer(1))
    .option('--effective-batch <n>', 'examples per optimizer step, all ranks together (gradient accumulation makes it up); default per model and task', integer(1))
    .option('--seed <n>', 'seeds data order, initialisation, dropout and the policy (default 0)', integer(0))
    .option('--device <device>', 'cpu, cuda or cuda:N (default cpu)')
    .addOption(precisionOption('compute precision: fp32 (default), bf16 (autocast; CPU and CUDA) or fp16 (autocast + gradient scaling; CUDA only); --resume keeps the run\'s'))
    .option('--tokenizer <file>', 'tokenizer.json (default: beside the checkpoint)')
    .option('--checkpoint-every <n>', 'optimizer steps between resumable checkpoints (default 50)', integer(1))
    .option('--out <run-dir>', 'run directory: a new or empty folder, locked while the run works (default runs/<mode>-<model>-<task>-<time>)')
    .option('--resume', 'continue the run in --out from its last checkpoint (with the settings it started with; a different --lr, --epochs, ... is refused)')
    .option('--json', 'print the result as one JSON object on the last line of stdout');
  return addDistOptions(addMethodOptions(command, { methodHelp: help.methodHelp }));
}

export function runOptionsFrom(flags: RunFlags): RunOptions {
  return {
    architecture: flags.model,
    checkpoint: flags.checkpoint,
    task: flags.task,
    data: flags.data,
    out: flags.out,
    resume: flags.resume,
    device: flags.device,
    precision: flags.precision,
    seed: flags.seed,
    lr: flags.lr,
    epochs: flags.epochs,
    batchSize: flags.batchSize,
    effectiveBatch: flags.effectiveBatch,
    tokenizer: flags.tokenizer,
    checkpointEvery: flags.checkpointEvery,
    onWarning: (message) => process.stderr.write(`das: warning: ${message}\n`),
    ...distOptionsFrom(flags),
    method: methodFromFlags(flags),
  };
}
