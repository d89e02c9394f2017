/**
 * Methods through whole runs and the command line (tiny RoBERTa, synthetic SST-2): the method is
 * recorded, resumed, refused when a resume asks for another, carried by adapters and exports
 * (LoRA merged), counted by das flops and laid out by das report as the paper's Table C.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DasError } from '../../lib/errors.js';
import { readPeftConfig } from '../../lib/methods/lora/peft.js';
import { TINY_VILT } from '../support/vl.js';
import { readCheckpoint } from '../../lib/native/checkpoint.js';
import { predict } from '../../lib/serve/predict.js';
import { search, train } from '../../lib/train/runs.js';
import { lastJsonLine, runCli } from '../support/repo.js';
import { maxRelativeError } from '../support/tensors.js';
import { makeTinyRobertaSetup, type TinySetup } from '../support/tiny-roberta.js';

const texts = [{ text: 'the red cat sits near the tree' }, { text: 'a good movie', text_pair: 'it was not bad' }];

describe('methods in runs, exports and reports', function () {
  this.timeout(600_000);
  let root: string;
  let setup: TinySetup;
  let common: { architecture: 'roberta'; checkpoint: string; task: 'sst2'; data: string; batchSize: number; effectiveBatch: number; epochs: number; lr: number };

  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'das-methods-'));
    setup = await makeTinyRobertaSetup(root, { examples: 24 });
    common = { architecture: 'roberta', checkpoint: setup.checkpoint, task: 'sst2', data: setup.data, batchSize: 8, effectiveBatch: 8, epochs: 1, lr: 1e-2 };
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('das train --method lora records the method, skips with skip adapters only where it skips, and counts what it updates', () => {
    const out = path.join(root, 'lora');
    const args = ['--model', 'roberta', '--checkpoint', setup.checkpoint, '--task', 'sst2', '--data', setup.data, '--batch-size', '8', '--effective-batch', '8', '--epochs', '1'];
    const result = runCli(['train', ...args, '--method', 'lora', '--lora-r', '2', '--lora-targets', 'query,value,ffn_out', '--skip', 'En1', '--out', out, '--json']);
    assert.equal(result.status, 0, result.stderr);
    const config = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8'));
    assert.deepEqual(config.method, { name: 'lora', r: 2, alpha: 32, dropout: 0.1, targets: ['query', 'value', 'ffn_out'], skipLayers: ['En1'] });
    const sidecar = JSON.parse(fs.readFileSync(path.join(out, 'adapters', 'adapters.json'), 'utf8'));
    assert.deepEqual(sidecar.method, config.method);
    // hidden 32, intermediate 64: 3 running layers x (q, v: 2 x 2(32 + 32); ffn_out: 2(64 + 32)) + En1's skip adapter (b 32)
    const skipAdapter = 2 * 32 + 32 * 32 + 32 + 32 * 32 + 32;
    const json = lastJsonLine(result.stdout) as { params: { updated: number } };
    assert.equal(json.params.updated, 3 * (2 * 2 * 64 + 2 * 96) + skipAdapter);
    // the run's checkpoint says which method wrote it
    return readCheckpoint(path.join(out, 'checkpoints', 'last.safetensors')).then((checkpoint) => assert.equal(checkpoint.metadata['das.method'], JSON.stringify(config.method)));
  });

  it('--resume keeps the method and refuses another, naming it', () => {
    const result = runCli(['train', '--model', 'roberta', '--checkpoint', setup.checkpoint, '--task', 'sst2', '--data', setup.data, '--out', path.join(root, 'lora'), '--resume', '--method', 'adapter']);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /was started with method\.name "lora"; --resume keeps the run's method \(asked for "adapter"\)/);
  });

  it('rejects method options the method does not take, and a search without skip adapters', async () => {
    const flops = runCli(['flops', '--model', 'roberta-base', '--method', 'adapter', '--lora-r', '4']);
    assert.equal(flops.status, 2);
    assert.match(flops.stderr, /--lora-r applies to --method lora, not to --method adapter/);
    const target = runCli(['flops', '--model', 'roberta-base', '--method', 'lora', '--lora-targets', 'query,cross_query']);
    assert.equal(target.status, 2);
    assert.match(target.stderr, /Expected projections of roberta \(query, key, value, attn_out, ffn_in, ffn_out\) for method\.targets but received "cross_query"/);
    await assert.rejects(search({ ...common, out: path.join(root, 'no-skip'), skipNum: 1, method: { name: 'lora', skipBottleneck: 0 } }), (e: unknown) => e instanceof DasError && /a search needs skip adapters/.test(e.message));
  });

  it('export merges LoRA into the weights: predict on the export gives the run\'s outputs, and its config.json carries the method', async () => {
    const run = path.join(root, 'lora');
    const out = path.join(root, 'lora-export');
    const exported = runCli(['export', '--run', run, '--out', out, '--json']);
    assert.equal(exported.status, 0, exported.stderr);
    const { tensors } = await readCheckpoint(path.join(out, 'model.safetensors'));
    assert.ok(!Object.keys(tensors).some((name) => name.includes('lora_')), 'no LoRA deltas left: they are in the weights');
    const section = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')).das;
    assert.equal(section.method.name, 'lora');
    assert.equal(section.method.merged, true);
    const fromRun = await predict({ architecture: 'roberta', checkpoint: setup.checkpoint, run, input: texts });
    const fromExport = await predict({ architecture: 'roberta', checkpoint: out, input: texts });
    assert.deepEqual(fromExport.skipped, ['En1']);
    const error = maxRelativeError(fromExport.predictions.flatMap((p) => p.logits), fromRun.predictions.flatMap((p) => p.logits));
    assert.ok(error < 1e-5, `relative error ${error}`);
    // das flops counts the export with its method and skipped layer
    const flops = runCli(['flops', '--model', out, '--json']);
    assert.equal(flops.status, 0, flops.stderr);
    const counted = lastJsonLine(flops.stdout) as { method: { name: string }; params: { updated: number } };
    assert.equal(counted.method.name, 'lora');
    assert.equal(counted.params.updated, 3 * (2 * 2 * 64 + 2 * 96) + 2 * 32 + 2 * 32 * 32 + 64, 'the merged deltas still count as updated');
    // PEFT has no skip adapters: that run only exports in das-torch's format
    const peft = runCli(['export', '--run', run, '--out', path.join(root, 'lora-peft'), '--format', 'peft']);
    assert.equal(peft.status, 2);
    assert.match(peft.stderr, /PEFT has no skip adapters/);
  });

  it('a search with LoRA skips layers and LoRAs the rest; training takes its choice with the same method', async () => {
    const found = await search({ ...common, epochs: 2, out: path.join(root, 'lora-search'), skipNum: 1, turn: 1, method: { name: 'lora', r: 2 } });
    assert.equal(found.skipped.length, 1);
    const { tensors } = await readCheckpoint(path.join(found.runDir, 'adapters', 'adapters.safetensors'));
    const names = Object.keys(tensors);
    assert.ok(names.some((n) => n.endsWith('.lora_B.weight')) && names.filter((n) => n.includes('.skip_adapter.')).length === 4 * 6, 'LoRA deltas and a skip adapter in every layer');
    const trained = await train({ ...common, out: path.join(root, 'lora-after-search'), skipFrom: found.runDir, method: { name: 'lora', r: 2 } });
    assert.deepEqual(trained.skipped, found.skipped);
    const config = JSON.parse(fs.readFileSync(path.join(trained.runDir, 'config.json'), 'utf8'));
    assert.deepEqual(config.method.skipLayers, found.skipped);
  });

  it('PEFT\'s format is refused for the architectures PEFT has no names for, naming the alternative', () => {
    assert.throws(() => readPeftConfig(root, 'vilt', TINY_VILT), /PEFT's format covers RoBERTa \(HuggingFace names\); vilt adapters stay in das-torch's adapters\/ format/);
    assert.throws(() => readPeftConfig(root, 'roberta', {}), /adapter_config\.json does not exist \(not a PEFT adapter folder\)/);
  });

  it('das report lays runs of different methods out as Table C', async () => {
    const runs = [];
    for (const [name, method] of [['full', 'full'], ['bitfit', 'bitfit'], ['das', 'das']] as const) {
      const out = path.join(root, `table-${name}`);
      await train({ ...common, out, method, ...(name === 'das' ? { skip: ['En2'] } : {}) });
      runs.push(out);
    }
    runs.push(path.join(root, 'lora'));
    const result = runCli(['report', ...runs, '--out', path.join(root, 'report'), '--json']);
    assert.equal(result.status, 0, result.stderr);
    const md = fs.readFileSync((lastJsonLine(result.stdout) as { markdown: string }).markdown, 'utf8');
    assert.match(md, /## Methods/);
    assert.match(md, /\| Method \| Model \| Updated params \| Additional FLOPs \| SST2 \| Skipped layers \|/);
    // full tuning counts the whole model (head included); bitfit the layers' biases (4 layers x (4 x 32 + 64 + 32 + 2 x 32))
    assert.match(md, /\| bitfit \| roberta \| 1\.2K \| \+0\.00M \| \d+\.\d\d \| - \|/);
    assert.match(md, /\| full \| roberta \| [\d.]+[MK] \| \+0\.00M \| \d+\.\d\d \| - \|/);
    assert.match(md, /\| DAS \| roberta \| [\d.]+K \| -[\d.]+M \| \d+\.\d\d \| En2 \|/);
    assert.match(md, /\| lora \+ DAS skip \| roberta \| [\d.]+K \| -[\d.]+M \| \d+\.\d\d \| En1 \|/);
  });

  it('das flops --method all gives every method at its defaults, with the Table C counts on roberta-base', () => {
    const result = runCli(['flops', '--model', 'roberta-base', '--task', 'mnli', '--method', 'all', '--json']);
    assert.equal(result.status, 0, result.stderr);
    const { methods } = lastJsonLine(result.stdout) as { methods: { method: { name: string }; params: { updated: number; head: number }; additionalFlops: number }[] };
    const updated = Object.fromEntries(methods.map((m) => [m.method.name, m.params.updated + (m.method.name === 'full' ? m.params.head : 0)]));
    // by hand: BitFit 12 x (4 x 768 + 3072 + 768 + 2 x 768); prefix 12 x 15 x 768; LoRA 12 x 2 x 16 x (768 + 768);
    // adapter 24 x (768 + 768 x 16 + 16 + 16 x 768 + 768); MAM 12 x 2 x 16 x 768 + 12 x the same adapter; full: the whole model
    assert.deepEqual(updated, { full: 124_647_939, bitfit: 101_376, prefix: 138_240, lora: 589_824, adapter: 627_072, mam: 608_448, das: 645_504 });
    const flops = Object.fromEntries(methods.map((m) => [m.method.name, m.additionalFlops]));
    assert.equal(flops.lora, 0, 'LoRA merged: no extra FLOPs');
    assert.equal(flops.adapter, 24 * 2 * 512 * 768 * 16);
    assert.equal(flops.prefix, 12 * (2 * 512 * 15 * 768 + 2 * 15 * 768 * 768));
  });
});
