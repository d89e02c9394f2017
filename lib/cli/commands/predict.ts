import { Command, Option } from 'commander';
import type { Architecture } from '../../models/model.js';
import { predict } from '../../serve/predict.js';
import { integer } from '../options.js';
import { printJson, reportError } from '../output.js';

interface PredictFlags {
  model: Architecture;
  checkpoint: string;
  run?: string;
  peft?: string;
  task?: string;
  labels?: string;
  input: string;
  batchSize: number;
  device: string;
  tokenizer?: string;
  json?: boolean;
}

/** Every logit of a small head; a VQA head's thousands are for --json, so people see the best one. */
function humanLogits(logits: number[]): string {
  if (logits.length <= 10) return logits.map((l) => l.toFixed(4)).join(' ');
  return `${Math.max(...logits).toFixed(4)} (best of ${logits.length}; --json gives all logits)`;
}

export function predictCommand(): Command {
  return new Command('predict')
    .description(
      'inference over a JSONL file, one object a line: {"text", "text_pair"?} for RoBERTa, {"text", "image"} for ViLT/METER VQA and retrieval, ' +
        '{"text", "image_0", "image_1"} for NLVR2 (image paths relative to the file). Without --run: the published model as it is; ' +
        "with --run: the run's adapters, heads and skipped layers; with --peft: a PEFT LoRA adapter; exported models load as checkpoints",
    )
    .addOption(new Option('--model <arch>', 'architecture').choices(['roberta', 'vilt', 'meter']).makeOptionMandatory())
    .requiredOption('--checkpoint <path>', 'pre-trained or fine-tuned checkpoint, or a folder written by das export')
    .option('--run <run-dir>', 'apply this run\'s adapters, heads and skipped layers')
    .option('--peft <dir>', 'apply a HuggingFace PEFT LoRA adapter (adapter_config.json + adapter_model.safetensors) to a RoBERTa checkpoint')
    .addOption(new Option('--task <task>', 'the head to use without --run or an export (ViLT/METER default: the one the checkpoint holds; for RoBERTa it names mnli/sst2 classes)').choices(['vqa', 'nlvr2', 'irtr', 'mnli', 'sst2']))
    .option('--labels <file.json>', 'class names (VQA answers): a JSON array, or an object index -> name (default: the checkpoint\'s id2label, or the run\'s)')
    .requiredOption('--input <file.jsonl>', 'inputs, one JSON object a line')
    .option('--batch-size <n>', 'inputs per forward pass', integer(1), 16)
    .option('--device <device>', 'cpu, cuda or cuda:N', 'cpu')
    .option('--tokenizer <file>', "tokenizer.json (default: beside the checkpoint, else the run's)")
    .option('--json', 'print the predictions as one JSON object on the last line of stdout')
    .action(async (flags: PredictFlags) => {
      try {
        let last = 0;
        const result = await predict({
          architecture: flags.model,
          checkpoint: flags.checkpoint,
          run: flags.run,
          peft: flags.peft,
          task: flags.task,
          labels: flags.labels,
          input: flags.input,
          batchSize: flags.batchSize,
          device: flags.device,
          tokenizer: flags.tokenizer,
          onWarning: (message) => process.stderr.write(`das: warning: ${message}\n`),
          onProgress: (done, total) => {
            if (total >= 256 && (done === total || Date.now() - last > 5000)) {
              last = Date.now();
              process.stderr.write(`predict: ${done}/${total}\n`);
            }
          },
        });
        if (flags.json) printJson(result);
        else for (const p of result.predictions) process.stdout.write(`${p.label}\t${humanLogits(p.logits)}\n`);
      } catch (error) {
        reportError(error, flags);
      }
    });
}
