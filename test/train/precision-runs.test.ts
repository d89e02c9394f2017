import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DasError } from '../../lib/errors.js';
import { readCheckpoint } from '../../lib/native/checkpoint.js';
import { predict } from '../../lib/serve/predict.js';
import { evaluate, train, type TrainOptions } from '../../lib/train/runs.js';
import { lastJsonLine, runCli } from '../support/repo.js';
import { makeTinyRobertaSetup, type TinySetup } from '../support/tiny-roberta.js';

const texts = [{ text: 'the red cat sits near the tree' }, { text: 'a good movie', text_pair: 'it was not bad' }];

describe('bf16 runs: recorded, resumed, exported and served in their precision', function () {
  this.timeout(300_000);
  let root: string;
  let setup: TinySetup;
  let run: string;
  const options = (out: string): TrainOptions => ({
    architecture: 'roberta', checkpoint: setup.checkpoint, task: 'sst2', data: setup.data, out, skip: ['En1'], batchSize: 8, effectiveBatch: 16, epochs: 2, lr: 1e-2, checkpointEvery: 1, precision: 'bf16', seed: 3,
  });

  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'das-precision-'));
    setup = await makeTinyRobertaSetup(root);
    run = path.join(root, 'bf16');
    await train(options(run));
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('config.json, the training checkpoint and the report record bf16', async () => {
    assert.equal(JSON.parse(fs.readFileSync(path.join(run, 'config.json'), 'utf8')).precision, 'bf16');
    const { metadata } = await readCheckpoint(path.join(run, 'checkpoints/last.safetensors'), { names: [] });
    assert.equal(metadata['das.precision'], 'bf16');
    const report = runCli(['report', run, '--out', path.join(root, 'report'), '--json']);
    assert.equal(report.status, 0, report.stderr);
    const md = fs.readFileSync((lastJsonLine(report.stdout) as { markdown: string }).markdown, 'utf8');
    assert.match(md, /\| manual \| roberta \| sst2 \| bf16 \| global \|/);
  });

  it('resume keeps bf16, and refuses another precision naming both', async () => {
    const out = path.join(root, 'resumed');
    const controller = new AbortController();
    await assert.rejects(
      train({ ...options(out), signal: controller.signal, onProgress: (e) => e.phase === 'train' && e.step === 2 && controller.abort() }),
      (err: unknown) => err instanceof DasError && err.code === 'DAS_ABORTED',
    );
    await assert.rejects(train({ ...options(out), resume: true, precision: 'fp32' }), /cannot resume .* with different settings: --precision "fp32" \(the run has "bf16"\)/);
    const cli = runCli(['train', '--model', 'roberta', '--checkpoint', setup.checkpoint, '--task', 'sst2', '--data', setup.data, '--out', out, '--resume', '--precision', 'fp32']);
    assert.equal(cli.status, 2, 'an invalid argument');
    assert.match(cli.stderr, /--precision "fp32" \(the run has "bf16"\)/);
    // without --precision the run continues in bf16 and ends exactly like the uninterrupted one
    const { precision: _ignored, ...rest } = options(out);
    const resumed = await train({ ...rest, resume: true });
    const whole = JSON.parse(fs.readFileSync(path.join(run, 'result.json'), 'utf8'));
    assert.deepEqual(resumed.metrics, whole.metrics);
  });

  it('a checkpoint written in another precision is refused on load', async () => {
    const out = path.join(root, 'edited');
    fs.cpSync(run, out, { recursive: true });
    const config = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8'));
    fs.writeFileSync(path.join(out, 'config.json'), JSON.stringify({ ...config, precision: 'fp32' }));
    await assert.rejects(train({ ...options(out), precision: undefined, resume: true }), /last\.safetensors was trained in bf16 but the model computes in fp32/);
  });

  it('train -> export -> predict round trip in bf16: the export serves what the run serves', async () => {
    const exported = path.join(root, 'export');
    const cli = runCli(['export', '--run', run, '--out', exported, '--json']);
    assert.equal(cli.status, 0, cli.stderr);
    const fromRun = await predict({ architecture: 'roberta', checkpoint: setup.checkpoint, run, input: texts });
    const fromExport = await predict({ architecture: 'roberta', checkpoint: exported, input: texts, precision: 'bf16' });
    assert.deepEqual(fromExport, fromRun, 'the run predicts in its own precision (bf16) by default');
    const inFp32 = await predict({ architecture: 'roberta', checkpoint: exported, input: texts });
    const logits = (r: typeof fromRun) => r.predictions.flatMap((p) => p.logits);
    assert.notDeepEqual(logits(inFp32), logits(fromRun), 'an exported model predicts in fp32 unless asked');
    const scale = Math.max(...logits(inFp32).map(Math.abs));
    assert.ok(logits(inFp32).every((v, i) => Math.abs(v - logits(fromRun)[i]!) < 0.02 * scale), 'and close to bf16');
    // eval in bf16 (the run's) and fp32 on request
    const bf16Eval = await evaluate({ run });
    const fp32Eval = await evaluate({ run, precision: 'fp32' });
    assert.equal(bf16Eval.metrics.examples, fp32Eval.metrics.examples);
    assert.ok(Math.abs(bf16Eval.metrics.loss! - fp32Eval.metrics.loss!) < 0.05 * Math.abs(fp32Eval.metrics.loss!));
  });

  it('--precision is checked on every command: fp16 without CUDA and unknown names exit 2 with the reason', () => {
    const common = ['--model', 'roberta', '--checkpoint', setup.checkpoint, '--task', 'sst2', '--data', setup.data];
    const unknown = runCli(['train', ...common, '--precision', 'fp8']);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /argument 'fp8' is invalid\. Allowed choices are fp32, bf16, fp16/);
    for (const args of [['train', ...common, '--out', path.join(root, 'fp16')], ['search', ...common, '--skip-num', '1', '--out', path.join(root, 'fp16s')], ['eval', '--run', run], ['predict', '--model', 'roberta', '--checkpoint', setup.checkpoint, '--run', run, '--input', '/nonexistent.jsonl']]) {
      const cli = runCli([...args, '--precision', 'fp16']);
      assert.equal(cli.status, 2, `${args[0]}: ${cli.stderr}`);
      assert.match(cli.stderr, /precision fp16 needs a CUDA device .* the device is cpu; use bf16/, args[0]);
      assert.ok(!fs.existsSync(path.join(root, 'fp16')) && !fs.existsSync(path.join(root, 'fp16s')), 'no run directory was created');
    }
  });
});
