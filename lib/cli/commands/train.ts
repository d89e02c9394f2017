import { Command } from 'commander';
import { train, type TrainRunResult } from '../../train/runs.js';
import { withInterrupt } from '../interrupt.js';
import { integer, layerList } from '../options.js';
import { launchedHere, processRank, rankProgress } from '../dist-flags.js';
import { printJson, reportError } from '../output.js';
import { addRunOptions, runOptionsFrom, type RunFlags } from './run-flags.js';

interface TrainFlags extends RunFlags {
  skip?: string[];
  skipFrom?: string;
  skipRandom?: number;
}

export function formatRunResult(result: TrainRunResult): string {
  const metrics = Object.entries(result.metrics).map(([k, v]) => `  ${k.padEnd(10)} ${Number.isInteger(v) ? v : v.toFixed(4)}`);
  return [
    'metrics:',
    ...metrics,
    `skipped: ${result.skipped.length ? result.skipped.join(', ') : '(none)'}`,
    `parameters: ${(result.params.total / 1e6).toFixed(2)}M in the model, ${(result.params.updated / 1e6).toFixed(3)}M updated (head excluded)`,
    `run: ${result.runDir}`,
  ].join('\n');
}

export function trainCommand(): Command {
  const command = new Command('train')
    .description("train a method's modules (DAS's adapters by default) with a fixed set of skipped layers, from the pre-trained checkpoint")
    .option('--skip <layers>', 'comma-separated layers to skip, e.g. En3,En10', layerList)
    .option('--skip-from <run-dir>', 'skip the layers a finished search run chose')
    .option('--skip-random <k>', 'random-sampling baseline: skip k layers chosen uniformly at random (seeded by --seed)', integer(1));
  addRunOptions(command, {
    epochsHelp: 'training epochs (default per model and task)',
    methodHelp: 'parameter-efficient method: full, bitfit, prefix, lora, adapter, mam or das (default das); skipped layers get skip adapters with any of them',
  });
  return command.action(async (flags: TrainFlags) => {
    if (await launchedHere(flags)) return;
    const rank = processRank();
    const progress = rankProgress('train', rank);
    try {
      const result = await withInterrupt((signal) =>
        train({ ...runOptionsFrom(flags), skip: flags.skip, skipFrom: flags.skipFrom, skipRandom: flags.skipRandom, signal, onProgress: progress.onProgress }),
      );
      progress.done();
      if (rank !== 0) return; // rank 0 prints the job's result
      const { metrics, skipped, params, runDir } = result;
      if (flags.json) printJson({ metrics, skipped, params, runDir });
      else process.stdout.write(`${formatRunResult(result)}\n`);
    } catch (error) {
      progress.done();
      reportError(error, { ...flags, rank });
    }
  });
}
