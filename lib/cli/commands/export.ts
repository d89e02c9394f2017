import { Command, Option } from 'commander';
import { exportRun } from '../../serve/export.js';
import { printJson, reportError } from '../output.js';

interface ExportFlags {
  run: string;
  out: string;
  adapters?: 'best' | 'final';
  format: 'das' | 'peft';
  json?: boolean;
}

export function exportCommand(): Command {
  return new Command('export')
    .description(
      'write the compact model of a run (only the tensors it executes; skipped layers dropped; LoRA merged into the weights) as model.safetensors + ' +
        'config.json + tokenizer.json, or (--format peft) a LoRA run\'s adapter in HuggingFace PEFT\'s format',
    )
    .requiredOption('--run <run-dir>', 'a training (or search) run directory')
    .requiredOption('--out <dir>', 'folder to write')
    .addOption(new Option('--adapters <which>', 'best (default when saved) or final').choices(['best', 'final']))
    .addOption(new Option('--format <format>', "das: a model predict and eval load as --checkpoint; peft: adapter_config.json + adapter_model.safetensors (LoRA, RoBERTa) for PEFT").choices(['das', 'peft']).default('das'))
    .option('--json', 'print the result as one JSON object on the last line of stdout')
    .action(async (flags: ExportFlags) => {
      try {
        const result = await exportRun({ run: flags.run, out: flags.out, adapters: flags.adapters, format: flags.format });
        const { out, bytes, flops, baseFlops, skipped } = result;
        if (flags.json) printJson({ out, bytes, flops, baseFlops, skipped });
        else {
          process.stdout.write(
            `exported to ${out}${flags.format === 'peft' ? ' (PEFT LoRA adapter: load with PeftModel.from_pretrained, or das predict --peft)' : ''}\n` +
              `  weights ${(bytes / 2 ** 20).toFixed(2)} MiB (pre-trained checkpoint ${(result.sourceBytes / 2 ** 20).toFixed(2)} MiB)\n` +
              `  FLOPs ${(flops / 1e9).toFixed(3)} G per example vs ${(baseFlops / 1e9).toFixed(3)} G for the pre-trained model\n` +
              `  skipped: ${skipped.join(', ') || '(none)'}\n`,
          );
        }
      } catch (error) {
        reportError(error, flags);
      }
    });
}
