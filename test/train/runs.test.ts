import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DasError } from '../../lib/errors.js';
import { evaluate, search, train, type SearchOptions } from '../../lib/train/runs.js';
import { shallowSnapshot, snapshot } from '../support/folders.js';
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
    assert.ok(fs.existsSync(path.join(out, 'run.lock')), 'a killed process leaves its lock behind');
    // what interrupted atomic writes leave behind
    const temps = ['checkpoints/last.safetensors.tmp-4242-1', 'config.json.tmp-4242-2', 'adapters.tmp-1-2'].map((t) => path.join(out, t));
    for (const t of temps) fs.writeFileSync(t, 'partial');
    const resumed = runCli(['search', ...searchArgs(setup), '--out', out, '--resume', '--json']);
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.match(resumed.stderr, /warning: taking over the stale lock .* is no longer running/);
    assert.deepEqual(temps.filter((t) => fs.existsSync(t)), [], 'temp files of interrupted writes are cleaned');
    assert.ok(!fs.existsSync(path.join(out, 'run.lock')));
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

  it('a second process on a run folder in use is refused, and changes nothing there', async () => {
    const out = path.join(root, 'held');
    const killer = path.join(repoRoot, 'test/fixtures/kill-during-search.mjs');
    const child = spawn(process.execPath, [killer, JSON.stringify(options(setup, out)), '3', 'hold'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('holding') && resolve());
        child.on('exit', (code) => reject(new Error(`the search exited with ${code} before holding`)));
      });
      const before = snapshot(out);
      for (const args of [['--resume'], []]) {
        const second = runCli(['search', ...searchArgs(setup), '--out', out, ...args, '--json']);
        assert.equal(second.status, 2, second.stderr);
        assert.match((lastJsonLine(second.stdout) as any).error.message, new RegExp(`is in use by process ${child.pid} on .*only one process may run it at a time`));
      }
      await assert.rejects(search({ ...options(setup, out), resume: true }), /is in use by process/);
      assert.deepEqual(snapshot(out), before);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('a resume that asks for a different --lr or --epochs is refused, naming them; the run is untouched', () => {
    const dir = path.join(root, 'reference');
    const before = snapshot(dir);
    const other = runCli(['search', ...searchArgs(setup).map((a) => (a === '1e-3' ? '2e-3' : a)), '--epochs', '5', '--out', dir, '--resume', '--json']);
    assert.equal(other.status, 2);
    assert.match(other.stderr, /cannot resume .* with different settings: --lr 0\.002 \(the run has 0\.001\); --epochs 5 \(the run has 3\)/);
    assert.deepEqual(snapshot(dir), before);
  });

  it('a run that failed before its first checkpoint is started over on the next attempt, saying so', async () => {
    const out = path.join(root, 'retried');
    const data = path.join(root, 'no-train');
    fs.cpSync(setup.data, data, { recursive: true });
    fs.writeFileSync(path.join(data, 'SST-2', 'train.tsv'), 'sentence\tlabel\n');
    await assert.rejects(search({ ...options(setup, out), data }), /train\.tsv/);
    assert.ok(fs.existsSync(path.join(out, 'config.json')) && !fs.existsSync(path.join(out, 'run.lock')));
    const warnings: string[] = [];
    const result = await search({ ...options(setup, out), onWarning: (m) => warnings.push(m) });
    assert.match(warnings.join('\n'), /stopped before its first checkpoint \(nothing to resume\): starting it over/);
    assert.deepEqual(result.gates, reference.gates);
    assert.equal(JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')).data, setup.data);
  });

  it('a resume after metrics.jsonl was deleted is refused instead of finishing with a short log', async () => {
    const out = path.join(root, 'lost-log');
    const controller = new AbortController();
    await assert.rejects(search({ ...options(setup, out), signal: controller.signal, onProgress: (e) => e.phase === 'train' && e.step === 4 && controller.abort() }), /stopped at step 4/);
    fs.rmSync(path.join(out, 'metrics.jsonl'));
    const cli = runCli(['search', ...searchArgs(setup), '--out', out, '--resume']);
    assert.equal(cli.status, 1);
    assert.match(cli.stderr, /metrics\.jsonl is missing, but held 4 records when its last checkpoint was written/);
    assert.ok(!fs.existsSync(path.join(out, 'result.json')));
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

    it('a schedule that would make no reward update (one epoch, or --turn beyond the post-warm-up steps), and --samples 1', async () => {
      for (const [change, message] of [
        [{ epochs: 1 }, /would make no reward update: its 1 epoch\(s\) are all warm-up .*--epochs 2/],
        [{ turn: 13 }, /would make no reward update: .* 12 steps \(2 epoch\(s\) of 6\), fewer than the 13 steps/],
        [{ samples: 1 }, /Expected at least 2 .* for --samples but received 1/],
      ] as const) {
        const out = path.join(root, `no-rounds-${Object.keys(change)[0]}`);
        await assert.rejects(search({ ...options(setup, out), ...change }), message);
        noWork(out);
        // only the steps an epoch takes needs the data; the rest fails before a folder is made
        assert.equal(fs.existsSync(out), 'turn' in change);
      }
    });

    it('a new run in a folder of other files, or --out "" (the working directory)', async () => {
      const mine = path.join(root, 'mine');
      fs.mkdirSync(mine);
      fs.writeFileSync(path.join(mine, 'result.json'), '{"mine": true}');
      fs.writeFileSync(path.join(mine, 'metrics.jsonl'), '{"mine": true}\n');
      const before = snapshot(mine);
      await assert.rejects(search(options(setup, mine)), /is not empty and holds no das-torch run \(it has: metrics\.jsonl, result\.json\)/);
      assert.deepEqual(snapshot(mine), before);
      const cwd = shallowSnapshot(process.cwd());
      await assert.rejects(search(options(setup, '')), /Expected a folder path for --out but received ""/);
      const cli = runCli(['train', ...searchArgs(setup).slice(0, 8), '--out', '', '--json']);
      assert.equal(cli.status, 2);
      assert.match((lastJsonLine(cli.stdout) as any).error.message, /for --out/);
      assert.deepEqual(shallowSnapshot(process.cwd()), cwd);
    });

    it('--skip with a layer twice, on the command line and through the API', async () => {
      const cli = runCli(['train', ...searchArgs(setup).slice(0, 8), '--skip', 'En1,En1', '--json']);
      assert.equal(cli.status, 2);
      assert.match(cli.stderr, /--skip <layers>.*expected each layer at most once, got En1 twice/);
      await assert.rejects(train({ ...options(setup, path.join(root, 'dup')), skip: ['En1', 'En2', 'En1'] }), /Expected each layer at most once for the skipped layers but received "En1 twice"/);
      noWork(path.join(root, 'dup'));
    });

    it('--adapters best of a search run (which saves none)', async () => {
      const dir = path.join(root, 'reference');
      await assert.rejects(evaluate({ run: dir, adapters: 'best' }), /has no best adapters .*use --adapters final/);
      const cli = runCli(['export', '--run', dir, '--out', path.join(root, 'export-best'), '--adapters', 'best', '--json']);
      assert.equal(cli.status, 2);
      assert.match((lastJsonLine(cli.stdout) as any).error.message, /has no best adapters/);
      assert.ok(!fs.existsSync(path.join(root, 'export-best')));
    });

    it('k as large as the candidate list', async () => {
      const out = path.join(root, 'bad-k');
      await assert.rejects(search({ ...options(setup, out), skipNum: 4 }), /skipNum/);
      noWork(out);
    });

    it('an unknown layer name', async () => {
      const out = path.join(root, 'bad-layer');
      await assert.rejects(train({ ...options(setup, out), skip: ["En9"] }), /Expected one of En0, En1, En2, En3 for layer "En9" in the skipped layers but received "En9"/);
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
