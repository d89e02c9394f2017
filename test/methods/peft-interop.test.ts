/**
 * LoRA in HuggingFace PEFT's format, against PEFT itself (Python torch 2.x with peft, from
 * DAS_TORCH2_PYTHON or .venv/torch2-cpu): an adapter PEFT wrote gives the same logits here, and one
 * written here gives the same logits in PEFT, on the same tiny RoBERTa. Without Python peft the
 * test says so and is skipped.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { HostTensor } from '../../lib/host-tensor.js';
import { loadPeftAdapter, readPeftConfig, savePeftAdapter } from '../../lib/methods/lora/peft.js';
import { loadPretrained, checkpointModelConfig } from '../../lib/models/pretrained-any.js';
import { writeRandomRobertaCheckpoint } from '../../lib/models/random-checkpoint.js';
import { lastJsonLine, repoRoot, runCli } from '../support/repo.js';
import { maxRelativeError } from '../support/tensors.js';

function torch2Python(): string | undefined {
  const candidates = [process.env.DAS_TORCH2_PYTHON, path.join(repoRoot, '.venv/torch2-cpu/bin/python')].filter((p): p is string => !!p);
  for (const python of candidates) {
    if (fs.existsSync(python) && spawnSync(python, ['-c', 'import peft, transformers, torch'], { encoding: 'utf8' }).status === 0) return python;
  }
  return undefined;
}

const rows = [
  [0, 5, 9, 14, 22, 31, 2],
  [0, 40, 41, 2, 1, 1, 1],
];
const inputs = { input_ids: rows, attention_mask: rows.map((r) => r.map((id) => (id === 1 ? 0 : 1))), num_labels: 3 };
const batch = {
  input_ids: { dtype: 'int64', shape: [2, 7], data: BigInt64Array.from(rows.flat().map(BigInt)) } as HostTensor<'int64'>,
  attention_mask: { dtype: 'int64', shape: [2, 7], data: BigInt64Array.from(inputs.attention_mask.flat().map(BigInt)) } as HostTensor<'int64'>,
  labels: { dtype: 'int64', shape: [2], data: BigInt64Array.from([2n, 0n]) } as HostTensor<'int64'>,
};

describe('LoRA in PEFT format, against Python peft', function () {
  this.timeout(600_000);
  const python = torch2Python();
  let root: string;
  let base: string;

  before(async function () {
    if (!python) {
      console.log('    (Python peft not found: set DAS_TORCH2_PYTHON or run scripts/setup-torch2.sh; the PEFT interop test is SKIPPED)');
      this.skip();
    }
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'das-peft-'));
    base = await writeRandomRobertaCheckpoint(path.join(root, 'base'), { hidden: 32, layers: 2, heads: 4, intermediate: 48, maxPositions: 40, numLabels: 3 }, 8);
    fs.writeFileSync(path.join(root, 'inputs.json'), JSON.stringify(inputs));
  });
  after(() => root && fs.rmSync(root, { recursive: true, force: true }));

  const peft = (mode: 'make' | 'run', adapter: string): number[] => {
    const child = spawnSync(python!, [path.join(repoRoot, 'test/fixtures/peft_lora.py'), mode, base, adapter, path.join(root, 'inputs.json')], { encoding: 'utf8' });
    assert.equal(child.status, 0, child.stderr);
    return (lastJsonLine(child.stdout) as { logits: number[] }).logits;
  };

  it('an adapter PEFT wrote gives PEFT\'s logits here (and through das predict --peft)', async () => {
    const adapter = path.join(root, 'from-peft');
    const expected = peft('make', adapter);
    const method = readPeftConfig(adapter, 'roberta', checkpointModelConfig('roberta', base, 'mnli'));
    assert.deepEqual({ r: method.r, alpha: method.alpha, targets: [...method.targets].sort() }, { r: 4, alpha: 8, targets: ['query', 'value'] });
    const { model } = await loadPretrained('roberta', base, { task: 'mnli', method });
    try {
      await loadPeftAdapter(model, adapter);
      const ours = (await model.evalStep(batch, { logits: true })).logits!;
      const error = maxRelativeError(ours.data, expected);
      assert.ok(error < 1e-5, `relative error ${error}`);
      // the command line: same adapter, same model, text through the checkpoint's tokenizer
      const input = path.join(root, 'input.jsonl');
      fs.writeFileSync(input, `${JSON.stringify({ text: 'a small test' })}\n`);
      const cli = runCli(['predict', '--model', 'roberta', '--checkpoint', base, '--peft', adapter, '--input', input, '--json']);
      assert.equal(cli.status, 0, cli.stderr);
      const predicted = (lastJsonLine(cli.stdout) as { predictions: { logits: number[] }[] }).predictions;
      assert.equal(predicted[0]!.logits.length, 3);
    } finally {
      await model.dispose();
    }
  });

  it('an adapter written here (after training) gives the same logits in PEFT', async () => {
    const method = { name: 'lora' as const, r: 4, alpha: 8, dropout: 0, targets: ['query' as const, 'value' as const], skipBottleneck: 0 };
    const { model } = await loadPretrained('roberta', base, { task: 'mnli', method, seed: 2 });
    try {
      await model.configureOptimizer({});
      for (let i = 0; i < 3; i++) {
        await model.trainStep(batch);
        await model.optimizerStep(5e-2);
      }
      const ours = (await model.evalStep(batch, { logits: true })).logits!;
      const adapter = path.join(root, 'from-das');
      await savePeftAdapter(model, adapter, { baseModel: base });
      const config = JSON.parse(fs.readFileSync(path.join(adapter, 'adapter_config.json'), 'utf8'));
      assert.equal(config.peft_type, 'LORA');
      assert.deepEqual(config.target_modules, ['attention.self.query', 'attention.self.value']);
      const theirs = peft('run', adapter);
      const error = maxRelativeError(ours.data, theirs);
      assert.ok(error < 1e-5, `relative error ${error}`);
    } finally {
      await model.dispose();
    }
  });
});
