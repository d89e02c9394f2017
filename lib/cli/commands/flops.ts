import { Command } from 'commander';
import { robertaFlops, robertaLayerNames, type FlopReport } from '../../models/flops.js';
import { PRESETS, resolveModel } from '../../models/presets.js';
import { invalidArgument } from '../../errors.js';
import { printJson, reportError } from '../output.js';

/** RoBERTa FLOPs are per sequence of 512 tokens (SPEC 8). */
const ROBERTA_TOKENS = 512;

interface FlopsOptions {
  model: string;
  task?: string;
  skip?: string;
  scope: string;
  json?: boolean;
}

function formatCount(value: number): string {
  return Math.abs(value) >= 1e9 ? `${(value / 1e9).toFixed(3)} G` : `${(value / 1e6).toFixed(3)} M`;
}

function formatReport(model: string, task: string, report: FlopReport): string {
  const lines = [`${model}, task ${task}, input ${report.input} (1 MAC = 1 FLOP)`, '', 'layer   base FLOPs      DAS FLOPs'];
  for (const layer of report.layers) {
    lines.push(`${layer.name.padEnd(6)}  ${formatCount(layer.baseFlops).padStart(11)}  ${formatCount(layer.flops).padStart(11)}${layer.skipped ? '  skipped' : ''}`);
  }
  lines.push(
    '',
    `total   ${formatCount(report.baseFlops).padStart(11)}  ${formatCount(report.flops).padStart(11)}`,
    `additional FLOPs: ${formatCount(report.additionalFlops)} (${((100 * report.additionalFlops) / report.baseFlops).toFixed(2)}%)`,
    `parameters: ${(report.params.total / 1e6).toFixed(2)}M in the DAS model, ${(report.params.updated / 1e6).toFixed(3)}M updated (head excluded)`,
  );
  return lines.join('\n');
}

export function flopsCommand(): Command {
  return new Command('flops')
    .description('FLOPs and parameters of the base and the DAS model, per layer (no weights needed)')
    .requiredOption('--model <preset|dir>', `a preset (${PRESETS.join(', ')}) or a checkpoint folder with config.json`)
    .option('--task <task>', 'task head: mnli or sst2 (RoBERTa)')
    .option('--skip <layers>', 'comma-separated layers replaced by skip adapters, e.g. En3,En10')
    .option('--scope <scope>', 'candidate scope the skipped layers must belong to', 'global')
    .option('--json', 'print the result as one JSON object on the last line of stdout')
    .action((options: FlopsOptions) => {
      try {
        const model = resolveModel(options.model, options.task);
        const skip = options.skip ? options.skip.split(',').map((s) => s.trim()).filter(Boolean) : [];
        if (options.scope !== 'global') throw invalidArgument('--scope', "'global' for RoBERTa", options.scope);
        const candidates = robertaLayerNames(model.config);
        if (skip.length >= candidates.length) throw invalidArgument('--skip', `fewer than ${candidates.length} layers`, skip.length);
        const task = options.task ?? (model.config.numLabels === 2 ? 'sst2' : 'mnli');
        const report = robertaFlops(model.config, { tokens: Math.min(ROBERTA_TOKENS, model.config.maxPositions - model.config.padTokenId - 1), skip });
        if (options.json) {
          printJson({
            model: model.name,
            task,
            input: report.input,
            flops: report.flops,
            baseFlops: report.baseFlops,
            additionalFlops: report.additionalFlops,
            layers: report.layers.map(({ name, flops, skipped }) => ({ name, flops, skipped })),
            params: { total: report.params.total, updated: report.params.updated },
          });
        } else {
          process.stdout.write(`${formatReport(model.name, task, report)}\n`);
        }
      } catch (error) {
        reportError(error, options);
      }
    });
}
