import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeTinyTokenizer } from '../../lib/data/index.js';
import { TextTokenizer } from '../../lib/data/tokenizer.js';
import { DasError } from '../../lib/errors.js';
import type { HostTensor } from '../../lib/host-tensor.js';
import { ROBERTA_BASE } from '../../lib/models/roberta-config.js';
import { readCheckpoint } from '../../lib/native/checkpoint.js';
import { loadAdapters } from '../../lib/models/adapter-checkpoint.js';
import { loadPretrained } from '../../lib/models/pretrained-any.js';
import { exportRun } from '../../lib/serve/export.js';
import { predict, Predictor } from '../../lib/serve/predict.js';
import { train } from '../../lib/train/runs.js';
import { snapshot } from '../support/folders.js';
import { lastJsonLine, repoRoot, runCli } from '../support/repo.js';
import { maxRelativeError, writeRawTensors } from '../support/tensors.js';
import { makeTinyRobertaSetup, type TinySetup } from '../support/tiny-roberta.js';

const texts = [{ text: 'the red cat sits near the tree' }, { text: 'a good movie', text_pair: 'it was not bad' }, { text: 'blue' }];

describe('das predict and das export (RoBERTa)', function () {
  this.timeout(300_000);
  let root: string;
  let setup: TinySetup;
  let run: string;

  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'das-serve-'));
    setup = await makeTinyRobertaSetup(root);
    run = path.join(root, 'run');
    await train({ architecture: 'roberta', checkpoint: setup.checkpoint, task: 'sst2', data: setup.data, out: run, skip: ['En1', 'En2'], batchSize: 8, effectiveBatch: 8, epochs: 1, lr: 1e-2 });
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('without --run is the published model: equals an independent PyTorch computation', async () => {
    const dir = path.join(root, 'hf');
    const tokenizerFile = await writeTinyTokenizer(dir, 'bpe');
    const tokenizer = await TextTokenizer.load(tokenizerFile, { maxLength: 18, padding: 'longest', singleTokenType: true });
    const made = spawnSync('/usr/bin/python3', [path.join(repoRoot, 'test/fixtures/hf_roberta_checkpoint.py'), dir, String(tokenizer.vocabSize), '--with-head'], { encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    const ours = await predict({ architecture: 'roberta', checkpoint: dir, input: texts });
    assert.deepEqual(ours.skipped, []);
    assert.deepEqual(ours.predictions.map((p) => typeof p.label), ['string', 'string', 'string'], 'labels named by id2label');

    const padded = tokenizer.pad(texts.map((t) => tokenizer.encode(t.text, t.text_pair)));
    const { tensors } = await readCheckpoint(path.join(dir, 'pytorch_model.bin'));
    const manifestDir = path.join(root, 'reference');
    const ids: HostTensor = { dtype: 'int64', shape: [padded.batchSize, padded.length], data: BigInt64Array.from(padded.inputIds, BigInt) };
    const mask: HostTensor = { dtype: 'int64', shape: [padded.batchSize, padded.length], data: BigInt64Array.from(padded.attentionMask, BigInt) };
    const config = { ...ROBERTA_BASE, hidden: 32, layers: 2, heads: 4, adapterBottleneck: 0, padTokenId: 1, layerNormEps: 1e-5 };
    const weights = Object.fromEntries(Object.entries(tensors).filter(([name]) => !name.endsWith('position_ids')));
    writeRawTensors(manifestDir, { ...weights, 'input.input_ids': ids, 'input.attention_mask': mask }, { config, skip: [] });
    const reference = spawnSync('/usr/bin/python3', [path.join(repoRoot, 'test/fixtures/roberta_reference.py'), manifestDir], { encoding: 'utf8' });
    assert.equal(reference.status, 0, reference.stderr);
    const expected = (JSON.parse(reference.stdout) as { logits: number[] }).logits;
    const error = maxRelativeError(ours.predictions.flatMap((p) => p.logits), expected);
    assert.ok(error < 1e-5, `relative error ${error}`);
  });

  it('refuses a checkpoint without a classification head when there is no run', async () => {
    await assert.rejects(predict({ architecture: 'roberta', checkpoint: setup.checkpoint, input: texts }), /has no classification head \(missing classifier\.dense\.weight/);
  });

  it('export -> predict equals run -> predict bit for bit, and the export holds no tensor of a skipped layer', async () => {
    const out = path.join(root, 'export');
    const cli = runCli(['export', '--run', run, '--out', out, '--json']);
    assert.equal(cli.status, 0, cli.stderr);
    const exported = lastJsonLine(cli.stdout) as { out: string; bytes: number; flops: number; baseFlops: number; skipped: string[] };
    assert.deepEqual(Object.keys(exported), ['out', 'bytes', 'flops', 'baseFlops', 'skipped']);
    assert.deepEqual(exported.skipped, ['En1', 'En2']);
    assert.ok(exported.flops < exported.baseFlops);
    const { names } = await readCheckpoint(path.join(out, 'model.safetensors'));
    const skippedTensors = names.filter((n) => /^roberta\.encoder\.layer\.[12]\./.test(n));
    assert.ok(skippedTensors.length > 0 && skippedTensors.every((n) => n.includes('.skip_adapter.')), `only skip adapters of En1/En2: ${skippedTensors}`);
    assert.ok(!names.some((n) => /layer\.[03]\.skip_adapter\./.test(n)), 'no unused skip adapters');
    assert.ok(names.includes('roberta.encoder.layer.0.attention.self.query.weight') && names.includes('classifier.out_proj.weight'));

    const fromRun = await predict({ architecture: 'roberta', checkpoint: setup.checkpoint, run, input: texts });
    // the exported folder alone: the original checkpoint is not needed
    const moved = path.join(root, 'moved-export');
    fs.cpSync(out, moved, { recursive: true });
    const fromExport = await predict({ architecture: 'roberta', checkpoint: moved, input: texts });
    assert.deepEqual(fromExport.skipped, fromRun.skipped);
    assert.deepEqual(fromExport.predictions, fromRun.predictions);

    const evaluated = runCli(['eval', '--checkpoint', moved, '--data', setup.data, '--json']);
    assert.equal(evaluated.status, 0, evaluated.stderr);
    const viaRun = lastJsonLine(runCli(['eval', '--run', run, '--json']).stdout) as any;
    assert.equal((lastJsonLine(evaluated.stdout) as any).metrics.accuracy, viaRun.metrics.accuracy);
  });

  it('a Predictor loads once and runs many input sets, alone or overlapping, like predict()', async () => {
    const once = await predict({ architecture: 'roberta', checkpoint: setup.checkpoint, run, input: texts });
    const file = path.join(root, 'inputs.jsonl');
    fs.writeFileSync(file, texts.map((t) => JSON.stringify(t)).join('\n'));
    let kept: Predictor;
    {
      await using predictor = await Predictor.load({ architecture: 'roberta', checkpoint: setup.checkpoint, run, batchSize: 2 });
      kept = predictor;
      assert.deepEqual(predictor.skipped, ['En1', 'En2']);
      assert.equal(predictor.task, 'sst2');
      // batches pad to their own longest input, so logits agree to float rounding, labels exactly
      const same = (result: { predictions: { logits: number[]; label: unknown }[] }) => {
        assert.deepEqual(result.predictions.map((p) => p.label), once.predictions.map((p) => p.label));
        assert.ok(maxRelativeError(result.predictions.flatMap((p) => p.logits), once.predictions.flatMap((p) => p.logits)) < 1e-5);
      };
      const first = await predictor.run(texts);
      same(first);
      assert.deepEqual(await predictor.run(file), first, 'a file and the same inputs in memory');
      const [a, b, c] = await Promise.all([predictor.run(texts.slice(0, 1)), predictor.run(texts.slice(1)), predictor.run(texts)]);
      same({ predictions: [...a.predictions, ...b.predictions] });
      assert.deepEqual(c, first, 'overlapping runs do not disturb each other');
      await assert.rejects(predictor.run([{ txt: 'x' } as never]), /input 1: missing the field "text"/);
      await assert.rejects(predictor.run([]), /Expected at least one input for inputs/);
    }
    await assert.rejects(kept.run(texts), /this Predictor has been disposed/);
    await kept.dispose(); // idempotent
  });

  it('an exported or adapter-loaded model remembers its skipped layers: evaluated without `skip` it is the DAS model', async () => {
    const out = path.join(root, 'export-skip');
    await exportRun({ run, out });
    const batch = { input_ids: { dtype: 'int32' as const, shape: [2, 5], data: Int32Array.from([0, 5, 6, 7, 2, 0, 8, 9, 2, 1]) }, attention_mask: { dtype: 'uint8' as const, shape: [2, 5], data: Uint8Array.from([1, 1, 1, 1, 1, 1, 1, 1, 1, 0]) } };
    const { model } = await loadPretrained('roberta', out, { task: 'sst2' });
    try {
      assert.deepEqual(model.skipped, ['En1', 'En2']);
      const implicit = await model.evalStep(batch, { logits: true });
      const explicit = await model.evalStep(batch, { skip: ['En2', 'En1'], logits: true });
      const none = await model.evalStep(batch, { skip: [], logits: true });
      assert.deepEqual(implicit.logits, explicit.logits);
      assert.notDeepEqual(none.logits, explicit.logits, 'a per-call skip still overrides');
    } finally {
      await model.dispose();
    }
    const { model: adapted } = await loadPretrained('roberta', setup.checkpoint, { task: 'sst2' });
    await using _disposer = adapted;
    assert.deepEqual(adapted.skipped, []);
    await loadAdapters(adapted, path.join(run, 'adapters'));
    assert.deepEqual(adapted.skipped, ['En1', 'En2']);
    for (const bad of [['En1', 'En1'], ['En9'], ['en1']]) assert.throws(() => adapted.setSkipped(bad), /skipped layers/);
  });

  describe('export never overwrites what it did not write', () => {
    const refusals: [string, () => string, RegExp][] = [
      ['the run directory itself', () => run, /is a run directory: an export never writes into one/],
      ['another run directory', () => path.join(root, 'other-run'), /is a run directory/],
      ["the run's pre-trained checkpoint folder", () => setup.checkpoint, /holds the run's pre-trained checkpoint/],
      ['a folder of other files', () => path.join(root, 'mine'), /is not empty \(it has: notes\.txt\) and holds no previous export.*--force/],
      ['a folder that looks like an export but holds more', () => path.join(root, 'export-plus'), /is not empty .*holds no previous export/],
      ['a file', () => path.join(root, 'mine', 'notes.txt'), /is not a folder that can be written/],
      ['an empty path', () => '', /Expected a folder path for --out/],
    ];
    before(async () => {
      fs.cpSync(run, path.join(root, 'other-run'), { recursive: true });
      fs.mkdirSync(path.join(root, 'mine'));
      fs.writeFileSync(path.join(root, 'mine', 'notes.txt'), 'mine');
      await exportRun({ run, out: path.join(root, 'export-plus') });
      fs.writeFileSync(path.join(root, 'export-plus', 'results.csv'), 'mine');
    });

    for (const [what, out, message] of refusals) {
      it(`refuses ${what}, changing nothing there`, async () => {
        const target = out();
        const before = snapshot(target);
        const runBefore = snapshot(run);
        await assert.rejects(exportRun({ run, out: target }), (error: unknown) => error instanceof DasError && message.test(error.message));
        assert.deepEqual(snapshot(target), before);
        assert.deepEqual(snapshot(run), runBefore);
      });
    }

    it('the command line exits 2 with the JSON error as the last line', () => {
      const result = runCli(['export', '--run', run, '--out', run, '--json']);
      assert.equal(result.status, 2);
      assert.match((lastJsonLine(result.stdout) as any).error.message, /is a run directory/);
    });

    it('replaces a previous export, and with --force writes beside other files without touching them', async () => {
      const out = path.join(root, 'export-twice');
      await exportRun({ run, out });
      await exportRun({ run, out, adapters: 'final' });
      assert.deepEqual(fs.readdirSync(out).sort(), ['config.json', 'model.safetensors', 'tokenizer.json']);
      const mine = path.join(root, 'mine');
      await exportRun({ run, out: mine, force: true });
      assert.equal(fs.readFileSync(path.join(mine, 'notes.txt'), 'utf8'), 'mine');
      assert.deepEqual(fs.readdirSync(mine).sort(), ['config.json', 'model.safetensors', 'notes.txt', 'tokenizer.json']);
    });
  });

  describe('bad inputs', () => {
    it('a JSONL line without text, and a line that is not JSON, are named by line number', () => {
      const file = path.join(root, 'bad.jsonl');
      fs.writeFileSync(file, '{"text": "a good movie"}\n{"txt": "oops"}\n');
      const missing = runCli(['predict', '--model', 'roberta', '--checkpoint', setup.checkpoint, '--run', run, '--input', file]);
      assert.equal(missing.status, 1);
      assert.match(missing.stderr, /bad\.jsonl line 2: missing the field "text" \(RoBERTa takes text\)/);
      fs.writeFileSync(file, '{"text": "a good movie"}\n{"text": \n');
      assert.match(runCli(['predict', '--model', 'roberta', '--checkpoint', setup.checkpoint, '--run', run, '--input', file]).stderr, /line 2: not valid JSON/);
    });

    it('text too long is truncated with a warning, not an error', () => {
      const file = path.join(root, 'long.jsonl');
      fs.writeFileSync(file, `${JSON.stringify({ text: Array(80).fill('cat').join(' ') })}\n${JSON.stringify({ text: 'dog' })}\n`);
      const result = runCli(['predict', '--model', 'roberta', '--checkpoint', setup.checkpoint, '--run', run, '--input', file, '--json']);
      assert.equal(result.status, 0, result.stderr);
      assert.match(result.stderr, /warning: input 1 is longer than 38 tokens and was truncated/);
      assert.equal((lastJsonLine(result.stdout) as any).predictions.length, 2);
    });

    it('a run directory of another architecture', async () => {
      const other = path.join(root, 'vilt-run');
      fs.cpSync(run, other, { recursive: true });
      const config = JSON.parse(fs.readFileSync(path.join(other, 'config.json'), 'utf8'));
      fs.writeFileSync(path.join(other, 'config.json'), JSON.stringify({ ...config, architecture: 'vilt' }));
      await assert.rejects(predict({ architecture: 'roberta', checkpoint: setup.checkpoint, run: other, input: texts }), (err: unknown) => err instanceof DasError && /is a run of a vilt model, not roberta/.test(err.message));
    });
  });
});
