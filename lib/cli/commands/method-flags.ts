/** The --method option and its method options, shared by flops, search and train. */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { DasError } from '../../errors.js';
import { METHOD_NAMES, resolveMethod, type MethodConfig, type MethodName } from '../../methods/index.js';
import { integer, positiveNumber } from '../options.js';

export interface MethodFlags {
  method?: MethodName;
  adapterBottleneck?: number;
  adapterScale?: number;
  adapterNorm?: string;
  skipBottleneck?: number;
  loraR?: number;
  loraAlpha?: number;
  loraDropout?: number;
  loraTargets?: string[];
  prefixLength?: number;
  prefixProjection?: string;
}

const finite = (value: string): number => {
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number)) throw new InvalidArgumentError(`expected a number, got "${value}"`);
  return number;
};

/** Which flag sets which option of which methods. */
const FLAG_OPTIONS: { flag: keyof MethodFlags; cli: string; options: Partial<Record<MethodName, string>> }[] = [
  { flag: 'adapterBottleneck', cli: '--adapter-bottleneck', options: { das: 'bottleneck', adapter: 'bottleneck', mam: 'bottleneck' } },
  { flag: 'adapterScale', cli: '--adapter-scale', options: { das: 'scale', adapter: 'scale', mam: 'scale' } },
  { flag: 'adapterNorm', cli: '--adapter-norm', options: { das: 'norm', adapter: 'norm', mam: 'norm' } },
  { flag: 'loraR', cli: '--lora-r', options: { lora: 'r' } },
  { flag: 'loraAlpha', cli: '--lora-alpha', options: { lora: 'alpha' } },
  { flag: 'loraDropout', cli: '--lora-dropout', options: { lora: 'dropout' } },
  { flag: 'loraTargets', cli: '--lora-targets', options: { lora: 'targets' } },
  { flag: 'prefixLength', cli: '--prefix-length', options: { prefix: 'length', mam: 'prefixLength' } },
  { flag: 'prefixProjection', cli: '--prefix-projection', options: { prefix: 'projection', mam: 'prefixProjection' } },
  { flag: 'skipBottleneck', cli: '--skip-bottleneck', options: Object.fromEntries(METHOD_NAMES.map((name) => [name, 'skipBottleneck'])) },
];

export function addMethodOptions(command: Command, help: { methodHelp: string; extraChoices?: string[] }): Command {
  return command
    .addOption(new Option('--method <name>', help.methodHelp).choices([...METHOD_NAMES, ...(help.extraChoices ?? [])]))
    .option('--adapter-bottleneck <n>', 'adapter bottleneck (das: the model\'s adapterBottleneck; adapter, mam: 16)', integer(0))
    .option('--adapter-scale <x>', 'adapter output scale (das: the model\'s adapterScale; adapter 1; mam 4)', finite)
    .addOption(new Option('--adapter-norm <norm>', "adapter input norm (das: affine; adapter, mam: scale)").choices(['affine', 'scale', 'none']))
    .option('--skip-bottleneck <n>', "skip adapter bottleneck (default: the model's skipBottleneck; 0: no skip adapters)", integer(0))
    .option('--lora-r <r>', 'LoRA rank (default 16)', integer(1))
    .option('--lora-alpha <x>', 'LoRA scaling numerator: deltas are scaled by alpha / r (default 32)', positiveNumber)
    .option('--lora-dropout <p>', 'dropout on the LoRA input while training (default 0.1)', finite)
    .option('--lora-targets <roles>', 'projections that get a LoRA delta: query, key, value, attn_out, ffn_in, ffn_out, cross_* (default query,value)', (value) => value.split(',').map((s) => s.trim()).filter(Boolean))
    .option('--prefix-length <n>', 'prefix positions per layer (prefix: 15; mam: 16)', integer(1))
    .addOption(new Option('--prefix-projection <form>', 'prefix keys/values: separate, or projected through the layer\'s own key/value projections (prefix: projected; mam: separate)').choices(['separate', 'projected']));
}

/**
 * The method configuration the flags ask for (resolved, every default filled in), or undefined when
 * no --method was given and no method option either. A method option that the method does not
 * take is an error naming both.
 */
export function methodFromFlags(flags: MethodFlags, fallback?: MethodName): MethodConfig | undefined {
  const name = flags.method ?? fallback;
  const given = FLAG_OPTIONS.filter((entry) => flags[entry.flag] !== undefined);
  if (name === undefined) {
    if (given.length === 0) return undefined;
    return methodFromFlags(flags, 'das');
  }
  const config: Record<string, unknown> = { name };
  for (const entry of given) {
    const option = entry.options[name];
    if (!option) throw new DasError('DAS_INVALID_ARGUMENT', `${entry.cli} applies to --method ${Object.keys(entry.options).join(', ')}, not to --method ${name}`);
    config[option] = flags[entry.flag];
  }
  return resolveMethod(config as Partial<MethodConfig>, '--method');
}
