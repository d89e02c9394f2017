import { Command } from 'commander';
import { formatDemo, runDemo } from '../../demo/demo.js';
import { integer } from '../options.js';
import { printJson, reportError } from '../output.js';

export function demoCommand(): Command {
  return new Command('demo')
    .description('the whole DAS pipeline on an embedded synthetic vision-language task (no downloads, a few minutes on 2 cores): pre-train a small ViLT, search, train with the chosen and with random layers, compare, write report.html')
    .option('--out <dir>', "working folder: new, empty, or an earlier demo's (only the demo's own files are replaced)", 'das-demo')
    .option('--seed <n>', 'seed of the data, the model and the runs', integer(0), 0)
    .option('--json', 'print the comparison as one JSON object on the last line of stdout')
    .action(async (flags: { out: string; seed: number; json?: boolean }) => {
      try {
        const started = Date.now();
        const result = await runDemo({ dir: flags.out, seed: flags.seed, log: (line) => process.stderr.write(`${line}\n`) });
        if (flags.json) printJson({ ...result, seconds: (Date.now() - started) / 1000 });
        else process.stdout.write(`${formatDemo(result)}\n(${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
      } catch (error) {
        reportError(error, flags);
      }
    });
}
