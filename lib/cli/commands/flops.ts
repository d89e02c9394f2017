import { Command } from 'commander';
import { checkMethod, countsHead, METHOD_NAMES, resolveMethod, type MethodConfig } from '../../methods/index.js';
import { describeArchitecture } from '../../models/architecture.js';
import { robertaFlops, type FlopReport } from '../../models/flops.js';
import { PRESETS, resolveModel, type ResolvedModel } from '../../models/presets.js';
import { meterFlops, viltFlops, type VlFlopReport } from '../../models/vl-flops.js';
import { invalidArgument } from '../../errors.js';
import { printJson, reportError } from '../output.js';
import { addMethodOptions, methodFromFlags, type MethodFlags } from './method-flags.js';

/** The paper's measurement inputs: RoBERTa 512 tokens; ViLT and METER 40 text tokens (images at the config's size). */
const ROBERTA_TOKENS = 512;
const VL_TEXT_TOKENS = 40;

interface FlopsOptions extends Omit<MethodFlags, 'method'> {
  model: string;
  task?: string;
  skip?: string;
  scope: string;
  method?: MethodFlags['method'] | 'all';
  json?: boolean;
}

const millions = (value: number, digits = 3) => `${(value / 1e6).toFixed(digits)}M`;

/** The updated parameters as the paper's tables give them: full tuning counts the whole model, head included. */
function tableParams(method: MethodConfig, report: FlopReport): number {
  return report.params.updated + (countsHead(method) ? report.params.head : 0);
}

function formatCount(value: number): string {
  return Math.abs(value) >= 1e9 ? `${(value / 1e9).toFixed(3)} G` : `${(value / 1e6).toFixed(3)} M`;
}

function formatReport(model: string, task: string, report: FlopReport | VlFlopReport, method?: MethodConfig): string {
  const perPass = 'passes' in report && report.passes > 1;
  const label = method ? method.name : 'DAS';
  const lines = [
    `${model}, task ${task}, input ${report.input}${perPass ? ', per image-text pass' : ''} (1 MAC = 1 FLOP)${method ? `, method ${describeMethod(method)}` : ''}`,
    '',
    `layer   base FLOPs  ${`${label} FLOPs`.padStart(13)}`,
  ];
  for (const layer of report.layers) {
    lines.push(`${layer.name.padEnd(6)}  ${formatCount(layer.baseFlops).padStart(11)}  ${formatCount(layer.flops).padStart(11)}${layer.skipped ? '  skipped' : ''}`);
  }
  lines.push('', `total   ${formatCount(report.baseFlops).padStart(11)}  ${formatCount(report.flops).padStart(11)}`);
  if (perPass) {
    const { perExample } = report as VlFlopReport;
    lines.push(`example ${formatCount(perExample.baseFlops).padStart(11)}  ${formatCount(perExample.flops).padStart(11)}  (${(report as VlFlopReport).passes} passes)`);
  }
  lines.push(`additional FLOPs: ${formatCount(report.additionalFlops)} (${((100 * report.additionalFlops) / report.baseFlops).toFixed(2)}%)`);
  if (method && countsHead(method)) {
    lines.push(`parameters: ${(report.params.total / 1e6).toFixed(2)}M in the model, all ${millions(tableParams(method, report))} updated (the ${millions(report.params.head)} head included, as the paper counts full tuning)`);
  } else {
    lines.push(`parameters: ${(report.params.total / 1e6).toFixed(2)}M in the ${label} model, ${millions(report.params.updated)} updated (head excluded)`);
  }
  if (method?.name === 'lora' && !method.merged) lines.push('LoRA deltas counted merged into the weights, as das export writes them (no extra FLOPs)');
  return lines.join('\n');
}

/** The method and its options in one line: "lora (r 16, alpha 32, ...)". */
function describeMethod(method: MethodConfig): string {
  const options = Object.entries(method)
    .filter(([key]) => key !== 'name')
    .map(([key, value]) => `${key} ${Array.isArray(value) ? value.join(',') : String(value)}`);
  return options.length ? `${method.name} (${options.join(', ')})` : method.name;
}

/** `--method all`: one row per method, in the paper's order. */
function formatMethodTable(model: string, task: string, rows: { method: MethodConfig; report: FlopReport }[]): string {
  const lines = [`${model}, task ${task}, input ${rows[0]!.report.input} (1 MAC = 1 FLOP; updated parameters exclude the head, except for full tuning)`, ''];
  lines.push(`${'method'.padEnd(8)} ${'updated params'.padStart(24)} ${'additional FLOPs'.padStart(17)}  configuration`);
  for (const { method, report } of rows) {
    lines.push(`${method.name.padEnd(8)} ${`${tableParams(method, report).toLocaleString('en-US')} (${millions(tableParams(method, report), 2)})`.padStart(24)} ${formatCount(report.additionalFlops).padStart(17)}  ${describeMethod(method)}`);
  }
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
function compute(model: ResolvedModel, options: FlopsOptions, skip: string[], method?: MethodConfig): { report: FlopReport | VlFlopReport; candidates: string[]; task: string } {
  const candidates = scopeCandidates(model, options.scope);
  if (method) checkMethod(method, describeArchitecture(model.architecture, model.config));
  let report: FlopReport | VlFlopReport;
  let task: string;
  if (model.architecture === 'roberta') {
    const config = model.config;
    const tokens = Math.min(ROBERTA_TOKENS, config.maxPositions - config.padTokenId - 1);
    report = robertaFlops(config, { tokens, skip, ...(method ? { method } : {}) });
    task = options.task ?? (config.numLabels === 2 ? 'sst2' : 'mnli');
  } else {
    const options = { textTokens: VL_TEXT_TOKENS, skip, ...(method ? { method } : {}) };
    report = model.architecture === 'vilt' ? viltFlops(model.config, options) : meterFlops(model.config, options);
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
function jsonReport(model: ResolvedModel, task: string, report: FlopReport | VlFlopReport, method?: MethodConfig): Record<string, unknown> {
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
    params: { total: report.params.total, updated: report.params.updated, ...(method ? { head: report.params.head } : {}) },
    ...(method ? { method } : {}),
  };
}

export function flopsCommand(): Command {
  const command = new Command('flops')
    .description('FLOPs and parameters of the base and the adapted model, per layer (no weights needed)')
    .requiredOption('--model <preset|dir>', `a preset (${PRESETS.join(', ')}) or a checkpoint folder with config.json`)
    .option('--task <task>', 'task head: mnli or sst2 (RoBERTa); vqa, nlvr2 or irtr (ViLT, METER)')
    .option('--skip <layers>', 'comma-separated layers replaced by skip adapters, e.g. En3,En10 or FL2,FV0,LEn6 (default: none, or an exported model\'s own)')
    .option('--scope <scope>', 'candidate scope the skipped layers must belong to: global, or fusion (METER)', 'global')
    .option('--json', 'print the result as one JSON object on the last line of stdout');
  addMethodOptions(command, { methodHelp: `the method whose modules are counted: ${METHOD_NAMES.join(', ')}, or all (a table of every method at its defaults); default das, or an exported model's`, extraChoices: ['all'] });
  return command.action((options: FlopsOptions) => {
    try {
      const model = resolveModel(options.model, options.task);
      // an exported model counts with its own skipped layers unless --skip says otherwise
      const skip = options.skip ? options.skip.split(',').map((s) => s.trim()).filter(Boolean) : (model.skipped ?? []);
      if (options.method === 'all') {
        const rows = METHOD_NAMES.map((name) => {
          const method = resolveMethod(name);
          return { method, ...compute(model, options, skip, method) };
        });
        if (skip.length >= rows[0]!.candidates.length) throw invalidArgument('--skip', `fewer than ${rows[0]!.candidates.length} layers`, skip.length);
        const task = rows[0]!.task;
        if (options.json) printJson({ model: model.name, task, input: rows[0]!.report.input, methods: rows.map(({ method, report }) => jsonReport(model, task, report, method)) });
        else process.stdout.write(`${formatMethodTable(model.name, task, rows)}\n`);
        return;
      }
      const method = methodFromFlags({ ...options, method: options.method }) ?? model.method;
      const { report, candidates, task } = compute(model, options, skip, method);
      if (skip.length >= candidates.length) throw invalidArgument('--skip', `fewer than ${candidates.length} layers`, skip.length);
      if (options.json) printJson(jsonReport(model, task, report, method));
      else process.stdout.write(`${formatReport(model.name, task, report, method)}\n`);
    } catch (error) {
      reportError(error, options);
    }
  });
}
