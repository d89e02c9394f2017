import { Command, Option } from 'commander';
import { checkDataset, formatDatasetReport } from '../../data/index.js';
import type { ModelName, TaskName } from '../../data/dataset-types.js';
import { ARCHITECTURES, integer, TASKS } from '../options.js';
import { ExitCode, printJson, reportError } from '../output.js';

interface CheckFlags {
  task: TaskName;
  data: string;
  split?: string[];
  model?: ModelName;
  images: number;
  json?: boolean;
}

export function dataCommand(): Command {
  const check = new Command('check')
    .description('validate a dataset folder: counts, label vocabulary, and the first problems found')
    .addOption(new Option('--task <task>', 'task whose files to check').choices(TASKS).makeOptionMandatory())
    .requiredOption('--data <dir>', 'dataset folder')
    .option('--split <split...>', 'splits to check (default: train val)')
    .addOption(new Option('--model <arch>', 'which split files VQA uses (ViLT or METER layout)').choices(ARCHITECTURES))
    .option('--images <n>', 'images decoded per split to check they open', integer(0), 16)
    .option('--json', 'print the report as one JSON object on the last line of stdout')
    .action(async (flags: CheckFlags) => {
      try {
        const report = await checkDataset({ task: flags.task, data: flags.data, splits: flags.split, model: flags.model, imageSample: flags.images });
        if (flags.json) printJson(report);
        else process.stdout.write(`${formatDatasetReport(report)}\n`);
        if (!report.ok) process.exitCode = ExitCode.failure;
      } catch (error) {
        reportError(error, flags);
      }
    });
  return new Command('data').description('dataset tools').addCommand(check);
}
