import { Command } from 'commander';
import { describeArchitecture } from '../../models/architecture.js';
import { robertaFlops, type FlopReport } from '../../models/flops.js';
import { PRESETS, resolveModel, type ResolvedModel } from '../../models/presets.js';
import { meterFlops, viltFlops, type VlFlopReport } from '../../models/vl-flops.js';
import { invalidArgument } from '../../errors.js';
import { printJson, reportError } from '../output.js';

/** The paper's measurement inputs: RoBERTa 512 tokens; ViLT and METER 40 text tokens (images at the config's size). */
const ROBERTA_TOKENS = 512;
const VL_TEXT_TOKENS = 40;

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

function formatReport(model: string, task: string, report: FlopReport | VlFlopReport): string {
  const perPass = 'passes' in report && report.passes > 1;
  const lines = [`${model}, task ${task}, input ${report.input}${perPass ? ', per image-text pass' : ''} (1 MAC = 1 FLOP)`, '', 'layer   base FLOPs      DAS FLOPs'];
  for (const layer of report.layers) {
    lines.push(`${layer.name.padEnd(6)}  ${formatCount(layer.baseFlops).padStart(11)}  ${formatCount(layer.flops).padStart(11)}${layer.skipped ? '  skipped' : ''}`);
  }
  lines.push('', `total   ${formatCount(report.baseFlops).padStart(11)}  ${formatCount(report.flops).padStart(11)}`);
  if (perPass) {
    const { perExample } = report as VlFlopReport;
    lines.push(`example ${formatCount(perExample.baseFlops).padStart(11)}  ${formatCount(perExample.flops).padStart(11)}  (${(report as VlFlopReport).passes} passes)`);
  }
  lines.push(
    `additional FLOPs: ${formatCount(report.additionalFlops)} (${((100 * report.additionalFlops) / report.baseFlops).toFixed(2)}%)`,
    `parameters: ${(report.params.total / 1e6).toFixed(2)}M in the DAS model, ${(report.params.updated / 1e6).toFixed(3)}M updated (head excluded)`,
  );
  return lines.join('\n');
}

const DISPLAY_NAMES = { roberta: 'RoBERTa', vilt: 'ViLT', meter: 'METER' } as const;

/** The skip candidates of the scope the model's descriptor defines. */
function scopeCandidates(model: ResolvedModel, scope: string): string[] {
  const scopes = describeArchitecture(model.architecture, model.config).scopes;
  const candidates = scopes[scope];
  if (!candidates) throw invalidArgument('--scope', `${Object.keys(scopes).sort().map((name) => `'${name}'`).join(' or ')} for ${DISPLAY_NAMES[model.architecture]}`, scope);
  return candidates;
}

/** The report, the skip candidates of the scope, and the task name. */
function compute(model: ResolvedModel, options: FlopsOptions, skip: string[]): { report: FlopReport | VlFlopReport; candidates: string[]; task: string } {
  const candidates = scopeCandidates(model, options.scope);
  let report: FlopReport | VlFlopReport;
  let task: string;
  if (model.architecture === 'roberta') {
    const config = model.config;
    const tokens = Math.min(ROBERTA_TOKENS, config.maxPositions - config.padTokenId - 1);
    report = robertaFlops(config, { tokens, skip });
    task = options.task ?? (config.numLabels === 2 ? 'sst2' : 'mnli');
  } else {
    report = model.architecture === 'vilt' ? viltFlops(model.config, { textTokens: VL_TEXT_TOKENS, skip }) : meterFlops(model.config, { textTokens: VL_TEXT_TOKENS, skip });
    task = model.config.task;
  }
  checkScope(candidates, skip, options.scope); // after the model's own check of the layer names
  return { report, candidates, task };
}

function checkScope(candidates: string[], skip: string[], scope: string): void {
  for (const name of skip) {
    if (!candidates.includes(name)) throw invalidArgument('skip', `layer names of the ${scope} scope (${candidates[0]}..${candidates[candidates.length - 1]})`, name);
  }
}

/** The --json object; for NLVR2 the numbers are per image-text pass and `input` states the per-example cost. */
function jsonReport(model: ResolvedModel, task: string, report: FlopReport | VlFlopReport): Record<string, unknown> {
  let input = report.input;
  if ('passes' in report && report.passes > 1) {
    input += `, per image-text pass; one example takes ${report.passes} passes: ${report.perExample.flops} FLOPs (base ${report.perExample.baseFlops})`;
  }
  return {
    model: model.name,
    task,
    input,
    flops: report.flops,
    baseFlops: report.baseFlops,
    additionalFlops: report.additionalFlops,
    layers: report.layers.map(({ name, flops, skipped }) => ({ name, flops, skipped })),
    params: { total: report.params.total, updated: report.params.updated },
  };
}

export function flopsCommand(): Command {
  return new Command('flops')
    .description('FLOPs and parameters of the base and the DAS model, per layer (no weights needed)')
    .requiredOption('--model <preset|dir>', `a preset (${PRESETS.join(', ')}) or a checkpoint folder with config.json`)
    .option('--task <task>', 'task head: mnli or sst2 (RoBERTa); vqa, nlvr2 or irtr (ViLT, METER)')
    .option('--skip <layers>', 'comma-separated layers replaced by skip adapters, e.g. En3,En10 or FL2,FV0,LEn6 (default: none, or an exported model\'s own)')
    .option('--scope <scope>', 'candidate scope the skipped layers must belong to: global, or fusion (METER)', 'global')
    .option('--json', 'print the result as one JSON object on the last line of stdout')
    .action((options: FlopsOptions) => {
      try {
        const model = resolveModel(options.model, options.task);
        // an exported DAS model counts with its own skipped layers unless --skip says otherwise
        const skip = options.skip ? options.skip.split(',').map((s) => s.trim()).filter(Boolean) : (model.skipped ?? []);
        const { report, candidates, task } = compute(model, options, skip);
        if (skip.length >= candidates.length) throw invalidArgument('--skip', `fewer than ${candidates.length} layers`, skip.length);
        if (options.json) printJson(jsonReport(model, task, report));
        else process.stdout.write(`${formatReport(model.name, task, report)}\n`);
      } catch (error) {
        reportError(error, options);
      }
    });
}
