import { Command } from 'commander';
import { search } from '../../train/runs.js';
import { withInterrupt } from '../interrupt.js';
import { integer, positiveNumber } from '../options.js';
import { launchedHere, processRank, rankProgress } from '../dist-flags.js';
import { printJson, reportError } from '../output.js';
import { addRunOptions, runOptionsFrom, type RunFlags } from './run-flags.js';

interface SearchFlags extends RunFlags {
  skipNum: number;
  scope?: string;
  turn?: number;
  samples?: number;
  gateLr?: number;
}

export function searchCommand(): Command {
  const command = new Command('search')
    .description('DAS search: find the K layers the task needs least; writes gates.jsonl and result.json to the run directory')
    .requiredOption('--skip-num <k>', 'number of layers to skip', integer(1))
    .option('--scope <scope>', 'candidate layers: global (all skippable layers, the default); METER also fusion')
    .option('--turn <n>', 'training steps between reward rounds (default 10)', integer(1))
    .option('--samples <m>', 'subnetworks scored per reward round (default 3)', integer(1))
    .option('--gate-lr <eta>', 'gate learning rate (default 1)', positiveNumber);
  addRunOptions(command, {
    epochsHelp: 'search epochs, the first a warm-up (default 3)',
    methodHelp: 'what trains while searching, beside the skip adapters: das (parallel adapters, default), or full, bitfit, prefix, lora, adapter, mam ("skip layers and LoRA the rest")',
  });
  return command.action(async (flags: SearchFlags) => {
    if (await launchedHere(flags)) return;
    const rank = processRank();
    const progress = rankProgress('search', rank);
    try {
      const result = await withInterrupt((signal) =>
        search({
          ...runOptionsFrom(flags),
          skipNum: flags.skipNum,
          scope: flags.scope,
          turn: flags.turn,
          samples: flags.samples,
          gateLr: flags.gateLr,
          signal,
          onProgress: progress.onProgress,
        }),
      );
      progress.done();
      if (rank !== 0) return; // rank 0 prints the job's result
      const { skipped, gates, probs, rewardUpdates, runDir } = result;
      if (flags.json) {
        printJson({ skipped, gates, probs, rewardUpdates, runDir });
      } else {
        const rows = Object.keys(gates).map((name) => `  ${name.padEnd(6)} logit ${gates[name]!.toFixed(4).padStart(8)}  p ${probs[name]!.toFixed(4)}${skipped.includes(name) ? '  <- skip' : ''}`);
        process.stdout.write(`gates after ${rewardUpdates} reward rounds:\n${rows.join('\n')}\nskip: ${skipped.join(', ')}\nrun: ${runDir}\n`);
      }
    } catch (error) {
      progress.done();
      reportError(error, { ...flags, rank });
    }
  });
}
