import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DasError } from '../../lib/errors.js';
import { evaluate, search, train, type SearchOptions } from '../../lib/train/runs.js';
import { lastJsonLine, repoRoot, runCli } from '../support/repo.js';
import { makeTinyRobertaSetup, type TinySetup } from '../support/tiny-roberta.js';

const searchArgs = (setup: TinySetup) => ['--model', 'roberta', '--checkpoint', setup.checkpoint, '--task', 'sst2', '--data', setup.data, '--batch-size', '8', '--effective-batch', '8', '--lr', '1e-3', '--skip-num', '1', '--turn', '2', '--checkpoint-every', '1', '--seed', '7'];

function options(setup: TinySetup, out: string): SearchOptions {
  return { architecture: 'roberta', checkpoint: setup.checkpoint, task: 'sst2', data: setup.data, out, batchSize: 8, effectiveBatch: 8, lr: 1e-3, skipNum: 1, turn: 2, checkpointEvery: 1, seed: 7 };
}

function readResult(dir: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(dir, 'result.json'), 'utf8')) as Record<string, unknown>;
}

describe('search and training runs (tiny RoBERTa, synthetic SST-2)', function () {
  this.timeout(300_000);
  let root: string;
  let setup: TinySetup;
  let reference: Record<string, unknown>;

  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'das-runs-'));
    setup = await makeTinyRobertaSetup(root);
    await search(options(setup, path.join(root, 'reference')));
    reference = readResult(path.join(root, 'reference'));
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('writes the run directory: config, metrics, every gate update, adapters, result', () => {
    const dir = path.join(root, 'reference');
    for (const file of ['config.json', 'metrics.jsonl', 'gates.jsonl', 'result.json', 'checkpoints/last.safetensors', 'adapters/adapters.json']) {
      assert.ok(fs.existsSync(path.join(dir, file)), file);
    }
    const gates = fs.readFileSync(path.join(dir, 'gates.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    // 3 epochs of 6 steps (48 examples / 8); rounds after the warm-up epoch every 2 steps: 6
    assert.equal(gates.length, 6);
    assert.equal(reference.rewardUpdates, 6);
    assert.deepEqual(gates.map((g) => g.step), [8, 10, 12, 14, 16, 18]);
    for (const g of gates) assert.deepEqual(Object.keys(g).slice(0, 5), ['round', 'step', 'epoch', 'stepInEpoch', 'subsets']);
    assert.deepEqual(Object.values(reference.gates as object), gates.at(-1).logits);
    const metrics = fs.readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(metrics.filter((m) => m.type === 'train').length, 18);
    assert.equal(metrics.filter((m) => m.type === 'choice').length, 3);
  });

  it('is reproducible: the same seed gives the same gates', async () => {
    await search(options(setup, path.join(root, 'again')));
    assert.deepEqual(readResult(path.join(root, 'again')).gates, reference.gates);
  });

  it('a search killed with SIGKILL and resumed ends exactly like an uninterrupted one', async () => {
    const out = path.join(root, 'killed');
    // killed after step 11, between checkpoints (every 3 steps): resume redoes steps 10-11
    const killer = path.join(repoRoot, 'test/fixtures/kill-during-search.mjs');
    const child = spawnSync(process.execPath, [killer, JSON.stringify({ ...options(setup, out), checkpointEvery: 3 }), '11'], { encoding: 'utf8' });
    assert.equal(child.signal, 'SIGKILL', child.stderr);
    assert.ok(!fs.existsSync(path.join(out, 'result.json')), 'killed before the end');
    const resumed = runCli(['search', ...searchArgs(setup), '--out', out, '--resume', '--json']);
    assert.equal(resumed.status, 0, resumed.stderr);
    const result = lastJsonLine(resumed.stdout);
    assert.deepEqual(result.gates, reference.gates);
    assert.deepEqual(result.skipped, reference.skipped);
    const gates = fs.readFileSync(path.join(out, 'gates.jsonl'), 'utf8').trim().split('\n');
    assert.equal(gates.length, 6, 'no gate update lost or written twice');
    const steps = fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((m) => m.type === 'train').map((m) => m.step);
    assert.deepEqual(steps, Array.from({ length: 18 }, (_, i) => i + 1), 'every step logged once');
  });

  it('aborting through the API leaves a run that resume completes identically', async () => {
    const out = path.join(root, 'aborted');
    const controller = new AbortController();
    await assert.rejects(
      search({ ...options(setup, out), signal: controller.signal, onProgress: (e) => e.phase === 'train' && e.step === 9 && controller.abort() }),
      (err: unknown) => err instanceof DasError && err.code === 'DAS_ABORTED' && /stopped at step 9 of 18/.test(err.message),
    );
    const result = await search({ ...options(setup, out), resume: true });
    assert.deepEqual(result.gates, reference.gates);
  });

  it('trains with the searched skip set and evaluates the run', async () => {
    const out = path.join(root, 'train');
    const trained = await train({ ...options(setup, out), skipFrom: path.join(root, 'reference'), epochs: 2 });
    assert.deepEqual(trained.skipped, reference.skipped);
    assert.equal(trained.metrics.examples, 48);
    assert.ok(trained.metrics.accuracy! >= 0 && trained.metrics.accuracy! <= 1);
    assert.ok(trained.params.updated > 0 && trained.params.updated < trained.params.total);
    const cli = runCli(['eval', '--run', out, '--json']);
    assert.equal(cli.status, 0, cli.stderr);
    const evaluated = lastJsonLine(cli.stdout) as any;
    assert.deepEqual(Object.keys(evaluated), ['metrics', 'skipped', 'params', 'runDir']);
    assert.deepEqual(evaluated.skipped, reference.skipped);
    assert.equal(evaluated.metrics.accuracy, (await evaluate({ run: out })).metrics.accuracy);
  });

  describe('invalid configurations fail before any work starts', () => {
    const noWork = (out: string) => assert.ok(!fs.existsSync(path.join(out, 'metrics.jsonl')), 'no step was run');

    it('k as large as the candidate list', async () => {
      const out = path.join(root, 'bad-k');
      await assert.rejects(search({ ...options(setup, out), skipNum: 4 }), /skipNum/);
      noWork(out);
    });

    it('an unknown layer name', async () => {
      const out = path.join(root, 'bad-layer');
      await assert.rejects(train({ ...options(setup, out), skip: ['En9'] }), /Expected layer names among En0, En1, En2, En3 for skip but received "En9"/);
      noWork(out);
    });

    it('a missing validation split', async () => {
      const data = path.join(root, 'no-val');
      fs.cpSync(setup.data, data, { recursive: true });
      fs.rmSync(path.join(data, 'SST-2', 'dev.tsv'));
      const out = path.join(root, 'bad-data');
      await assert.rejects(search({ ...options(setup, out), data }), /dev\.tsv/);
      noWork(out);
    });

    it('an existing run directory without --resume, and --resume without a run', async () => {
      await assert.rejects(search(options(setup, path.join(root, 'reference'))), /already holds a run.*--resume/);
      await assert.rejects(search({ ...options(setup, path.join(root, 'nothing-here')), resume: true }), /is not a run directory/);
    });

    it('bad command lines exit 2 naming the option', () => {
      const badK = runCli(['search', ...searchArgs(setup).filter((a, i, all) => a !== '--skip-num' && all[i - 1] !== '--skip-num'), '--skip-num', '0']);
      assert.equal(badK.status, 2);
      assert.match(badK.stderr, /--skip-num <k>.*expected an integer >= 1, got "0"/);
      const badTask = runCli(['train', '--model', 'roberta', '--checkpoint', setup.checkpoint, '--task', 'squad', '--data', setup.data]);
      assert.equal(badTask.status, 2);
      assert.match(badTask.stderr, /--task <task>.*Allowed choices are vqa, nlvr2, irtr, mnli, sst2/);
    });
  });
});
