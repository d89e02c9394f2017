import { Command, Option } from 'commander';
import { evaluate } from '../../train/runs.js';
import type { Precision } from '../../models/precision.js';
import { addDistOptions, distOptionsFrom, launchedHere, processRank, type DistFlags } from '../dist-flags.js';
import { integer, precisionOption } from '../options.js';
import { printJson, reportError } from '../output.js';
import { formatRunResult } from './train.js';

interface EvalFlags extends DistFlags {
  run?: string;
  checkpoint?: string;
  data?: string;
  split?: string;
  adapters?: 'best' | 'final';
  batchSize?: number;
  precision?: Precision;
  device?: string;
  json?: boolean;
}

export function evalCommand(): Command {
  const command = new Command('eval')
    .description("evaluate a run's adapters (the best epoch's when there is one), or an exported DAS model, on a dataset split (retrieval: also Recall@1/5/10 over every image-caption pair)")
    .option('--run <run-dir>', 'a run directory from das train or das search')
    .option('--checkpoint <dir>', 'instead of --run: a DAS model written by das export (needs --data)')
    .option('--data <dir>', "dataset folder (default: the run's)")
    .option('--split <split>', 'split to evaluate (default val)')
    .addOption(new Option('--adapters <which>', 'best (default when saved) or final').choices(['best', 'final']))
    .option('--batch-size <n>', "examples per forward pass (default: the run's batch size; 32 for an exported model)", integer(1))
    .addOption(precisionOption("compute precision: fp32, bf16 or fp16 (CUDA only); default: the run's, fp32 for an exported model"))
    .option('--device <device>', "cpu, cuda or cuda:N (default: the run's; cpu for an exported model)")
    .option('--json', 'print the result as one JSON object on the last line of stdout');
  return addDistOptions(command).action(async (flags: EvalFlags) => {
    if (await launchedHere(flags)) return;
    const rank = processRank();
    try {
      let last = Date.now();
      const onProgress = (done: number, total: number) => {
        if (rank === 0 && (done === total || Date.now() - last > 30_000)) {
          last = Date.now();
          process.stderr.write(`eval: ranked ${done}/${total} image-caption pairs\n`);
        }
      };
      const result = await evaluate({ run: flags.run, checkpoint: flags.checkpoint, data: flags.data, split: flags.split, adapters: flags.adapters, batchSize: flags.batchSize, precision: flags.precision, device: flags.device, onProgress, ...distOptionsFrom(flags) });
      if (rank !== 0) return; // rank 0 prints the job's result
      const { metrics, skipped, params, runDir } = result;
      if (flags.json) printJson({ metrics, skipped, params, runDir });
      else process.stdout.write(`${formatRunResult(result)}\n`);
    } catch (error) {
      reportError(error, { ...flags, rank });
    }
  });
}
