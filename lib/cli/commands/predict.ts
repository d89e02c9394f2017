import { Command, Option } from 'commander';
import { predict } from '../../serve/predict.js';
import { integer } from '../options.js';
import { printJson, reportError } from '../output.js';

interface PredictFlags {
  model: 'roberta';
  checkpoint: string;
  run?: string;
  input: string;
  batchSize: number;
  device: string;
  tokenizer?: string;
  json?: boolean;
}

export function predictCommand(): Command {
  return new Command('predict')
    .description('inference over a JSONL file (one {"text", "text_pair"?} object a line): the published model as it is, or with --run the run\'s adapters, heads and skipped layers; exported DAS models load as checkpoints')
    .addOption(new Option('--model <arch>', 'architecture').choices(['roberta']).makeOptionMandatory())
    .requiredOption('--checkpoint <path>', 'pre-trained or fine-tuned checkpoint, or a folder written by das export')
    .option('--run <run-dir>', 'apply this run\'s adapters, heads and skipped layers')
    .requiredOption('--input <file.jsonl>', 'inputs, one JSON object a line')
    .option('--batch-size <n>', 'inputs per forward pass', integer(1), 16)
    .option('--device <device>', 'cpu, cuda or cuda:N', 'cpu')
    .option('--tokenizer <file>', 'tokenizer.json (default: beside the checkpoint)')
    .option('--json', 'print the predictions as one JSON object on the last line of stdout')
    .action(async (flags: PredictFlags) => {
      try {
        let last = 0;
        const result = await predict({
          architecture: flags.model,
          checkpoint: flags.checkpoint,
          run: flags.run,
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
        else for (const p of result.predictions) process.stdout.write(`${p.label}\t${p.logits.map((l) => l.toFixed(4)).join(' ')}\n`);
      } catch (error) {
        reportError(error, flags);
      }
    });
}
