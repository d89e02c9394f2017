import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DasError } from '../../lib/errors.js';
import { reconcileResume } from '../../lib/train/resume-settings.js';
import { RunDir, runFolderState } from '../../lib/train/run-dir.js';
import { LOCK_FILE, processStartTime, RunLock } from '../../lib/train/run-lock.js';
import type { ResolvedRunConfig } from '../../lib/train/runs.js';
import { isAtomicTemp, writeJsonAtomic } from '../../lib/util/atomic-file.js';
import { snapshot } from '../support/folders.js';

const OUR_CONFIG = { mode: 'train', architecture: 'roberta' };

function storedConfig(overrides: Partial<ResolvedRunConfig> = {}): ResolvedRunConfig {
  return {
    mode: 'search', architecture: 'roberta', checkpoint: '/ckpt', tokenizer: '/ckpt/tokenizer.json', task: 'sst2', data: '/data', device: 'cpu', seed: 7,
    lr: 1e-3, epochs: 3, batchSize: 8, accumulation: 2, headLrMultiplier: 1, weightDecay: 0.01, warmupFraction: 0.1, checkpointEvery: 50, maxTextLength: 512,
    search: { skipNum: 1, scope: 'global', turn: 2 },
    ...overrides,
  };
}

describe('run folders: nothing of the user is lost, one process at a time', () => {
  let root: string;
  let n = 0;
  const folder = (files: Record<string, string> = {}): string => {
    const dir = path.join(root, `f${n++}`);
    for (const [name, content] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      fs.writeFileSync(path.join(dir, name), content);
    }
    fs.mkdirSync(dir, { recursive: true });
    return dir;
  };
  beforeEach(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), 'das-runfolder-'))));
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  describe('a new run never writes into a folder of other files', () => {
    const foreign: [string, Record<string, string>][] = [
      ['a stray file', { 'notes.txt': 'mine' }],
      ['a foreign metrics.jsonl', { 'metrics.jsonl': '{"mine":1}\n' }],
      ['a foreign result.json', { 'result.json': '{"score":1}' }],
      ['a config.json of another tool', { 'config.json': '{"model_type":"bert"}' }],
      ['a config.json that is not JSON', { 'config.json': 'hidden_size: 4' }],
      ['a subfolder', { 'data/train.tsv': 'a\tb\n' }],
      ['a checkpoints folder of someone else', { 'checkpoints/last.safetensors': 'x' }],
    ];
    for (const [what, files] of foreign) {
      it(`refuses ${what}, leaving every byte as it was`, () => {
        const dir = folder(files);
        const before = snapshot(dir);
        assert.throws(() => RunDir.create(dir), (error: unknown) => error instanceof DasError && error.code === 'DAS_INVALID_ARGUMENT' && /is not empty and holds no das-torch run/.test(error.message));
        assert.deepEqual(snapshot(dir), before);
      });
    }

    for (const out of ['', '   ', 'a\0b']) {
      it(`refuses --out ${JSON.stringify(out)} instead of writing into the working directory`, () => {
        assert.throws(() => RunDir.create(out), /Expected a folder path for --out/);
      });
    }

    it('a folder holding a resumable or finished run asks for --resume', () => {
      const resumable = folder({ 'config.json': JSON.stringify(OUR_CONFIG), 'checkpoints/last.safetensors': 'x' });
      const finished = folder({ 'config.json': JSON.stringify(OUR_CONFIG), 'checkpoints/last.safetensors': 'x', 'result.json': '{}' });
      for (const dir of [resumable, finished]) {
        const before = snapshot(dir);
        assert.throws(() => RunDir.create(dir), /already holds a run .*--resume/);
        assert.deepEqual(snapshot(dir), before);
      }
    });

    it('takes a missing or an empty folder', () => {
      for (const dir of [path.join(root, 'new', 'nested'), folder()]) {
        const run = RunDir.create(dir);
        assert.ok(fs.existsSync(path.join(dir, 'checkpoints')));
        assert.ok(fs.existsSync(path.join(dir, LOCK_FILE)));
        run.close();
        assert.ok(!fs.existsSync(path.join(dir, LOCK_FILE)), 'the lock goes with the run');
      }
    });
  });

  describe('a run that stopped before its first checkpoint starts over, and says so', () => {
    const started = () =>
      folder({ 'config.json': JSON.stringify(OUR_CONFIG), 'labels.json': '[]', 'metrics.jsonl': '{"type":"train"}\n', 'gates.jsonl': '', 'adapters/adapters.json': '{}', 'config.json.tmp-123-456': 'half', 'user-notes.txt': 'keep me' });

    for (const how of ['new run', 'resume'] as const) {
      it(`as a ${how}: the run's own files are cleared, other files stay`, () => {
        const dir = started();
        const warnings: string[] = [];
        const open = how === 'new run' ? () => ({ runDir: RunDir.create(dir, { onWarning: (m) => warnings.push(m) }), fresh: true }) : () => RunDir.resume(dir, { onWarning: (m) => warnings.push(m) });
        const { runDir, fresh } = open();
        assert.equal(fresh, true);
        assert.match(warnings.join('\n'), /stopped before its first checkpoint \(nothing to resume\): starting it over/);
        assert.deepEqual(fs.readdirSync(dir).sort(), ['checkpoints', LOCK_FILE, 'user-notes.txt'].sort());
        runDir.close();
      });
    }

    it('is how a run that failed at once (bad data, kill) is retried: state "started"', () => {
      assert.deepEqual(runFolderState(started()), { kind: 'started' });
      assert.deepEqual(runFolderState(path.join(root, 'nothing')), { kind: 'absent' });
      assert.deepEqual(runFolderState(folder({ [LOCK_FILE]: '{}' })), { kind: 'empty' });
    });
  });

  describe('the lock: one process per run folder', () => {
    it('refuses a second holder in the same process, and frees the folder on close', () => {
      const dir = folder();
      const first = RunDir.create(dir);
      first.writeConfig(OUR_CONFIG);
      const before = snapshot(dir);
      assert.throws(() => RunDir.create(dir), /is in use by process \d+ on .*only one process may run it at a time/);
      assert.throws(() => RunDir.resume(dir), /is in use by process/);
      assert.deepEqual(snapshot(dir), before);
      first.close();
      RunDir.resume(dir).runDir.close();
    });

    it('refuses a live process of another program, then takes over when it is killed (stale lock)', async () => {
      const dir = folder({ 'config.json': JSON.stringify(OUR_CONFIG), 'checkpoints/last.safetensors': 'x' });
      const lockModule = new URL('../../lib/train/run-lock.js', import.meta.url).href;
      const child = spawn(process.execPath, ['--input-type=module', '-e', `import { RunLock } from ${JSON.stringify(lockModule)}; RunLock.acquire(${JSON.stringify(dir)}, () => {}); console.log('locked'); setInterval(() => {}, 1000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
      try {
        await new Promise<void>((resolve, reject) => {
          child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('locked') && resolve());
          child.on('exit', (code) => reject(new Error(`the locking child exited with ${code}`)));
        });
        assert.throws(() => RunDir.resume(dir), new RegExp(`is in use by process ${child.pid} on ${os.hostname()}`));
        child.kill('SIGKILL');
        await new Promise((resolve) => child.on('exit', resolve));
        const warnings: string[] = [];
        const { runDir } = RunDir.resume(dir, { onWarning: (m) => warnings.push(m) });
        assert.match(warnings.join('\n'), new RegExp(`taking over the stale lock .*process ${child.pid} is no longer running`));
        runDir.close();
      } finally {
        child.kill('SIGKILL');
      }
    });

    it('detects a stale lock whose pid now belongs to another program (pid reuse)', () => {
      const dir = folder();
      fs.writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ pid: process.pid, host: os.hostname(), since: '2020-01-01T00:00:00Z', processStart: '1' }));
      const warnings: string[] = [];
      if (processStartTime(process.pid) === undefined) return; // no /proc: pid reuse cannot be told apart here
      RunDir.create(dir, { onWarning: (m) => warnings.push(m) }).close();
      assert.match(warnings.join('\n'), /the pid was reused/);
    });

    it('refuses a lock held on another host, saying how to clear it', () => {
      const dir = folder();
      fs.writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ pid: 1, host: 'node-17.cluster', since: '2026-01-01T00:00:00Z', command: 'das train' }));
      assert.throws(() => RunDir.create(dir), /in use by process 1 on node-17\.cluster .*If that process has ended, remove .*run\.lock/);
      assert.ok(fs.existsSync(path.join(dir, LOCK_FILE)));
    });

    it('an unreadable lock file is waited on while fresh, taken over when old', () => {
      const dir = folder({ [LOCK_FILE]: '' });
      assert.throws(() => RunLock.acquire(dir, () => {}), /is being locked by another process/);
      const old = new Date(Date.now() - 60_000);
      fs.utimesSync(path.join(dir, LOCK_FILE), old, old);
      const warnings: string[] = [];
      RunLock.acquire(dir, (m) => warnings.push(m)).release();
      assert.match(warnings[0]!, /was unreadable .* taking it over/);
    });

    it('a released lock that another process took over is left alone', () => {
      const dir = folder();
      const lock = RunLock.acquire(dir, () => {});
      const theirs = JSON.stringify({ pid: 1, host: 'elsewhere', since: 'now' });
      fs.writeFileSync(path.join(dir, LOCK_FILE), theirs);
      lock.release();
      assert.equal(fs.readFileSync(path.join(dir, LOCK_FILE), 'utf8'), theirs);
    });
  });

  describe('interrupted atomic writes and damaged logs', () => {
    const temps = ['config.json.tmp-4242-17', 'result.json.tmp-1-2', '.metrics.jsonl.4242.1700000000000.tmp', 'checkpoints/last.safetensors.tmp-99-123456', 'adapters/adapters.safetensors.tmp-5-6', 'best/adapters.json.tmp-5-7'];
    const run = () => folder({ 'config.json': JSON.stringify(OUR_CONFIG), 'checkpoints/last.safetensors': 'x', 'metrics.jsonl': '{"a":1}\n{"a":2}\n', 'notes.tmp': 'not ours', ...Object.fromEntries(temps.map((t) => [t, 'partial'])) });
    const left = (dir: string) => temps.filter((t) => fs.existsSync(path.join(dir, t)));

    it('recognises the temp names of both writers (TypeScript and the addon) and nothing else', () => {
      for (const name of temps) assert.ok(isAtomicTemp(path.basename(name)), name);
      for (const name of ['notes.tmp', 'config.json', 'a.tmp-x-1', 'tmp-1-2.json', 'metrics.jsonl.tmp']) assert.ok(!isAtomicTemp(name), name);
    });

    it('are removed when a run resumes', () => {
      const dir = run();
      const { runDir } = RunDir.resume(dir);
      assert.deepEqual(left(dir), []);
      assert.ok(fs.existsSync(path.join(dir, 'notes.tmp')));
      runDir.close();
    });

    it('are removed when a run ends, not while it may still be writing', () => {
      const dir = run();
      const { runDir } = RunDir.resume(dir);
      for (const t of temps) fs.writeFileSync(path.join(dir, t), 'partial');
      runDir.close();
      assert.equal(left(dir).length, temps.length, 'close() after a failure leaves them for the next resume');
      const again = RunDir.resume(dir).runDir;
      for (const t of temps) fs.writeFileSync(path.join(dir, t), 'partial');
      again.close({ finished: true });
      assert.deepEqual(left(dir), []);
    });

    it('the atomic writer leaves only the target behind', () => {
      const dir = folder();
      writeJsonAtomic(path.join(dir, 'a.json'), { a: 1 });
      assert.deepEqual(fs.readdirSync(dir), ['a.json']);
    });

    const logCases: [string, (file: string) => void, RegExp][] = [
      ['deleted', (file) => fs.rmSync(file), /metrics\.jsonl is missing, but held 3 records/],
      ['emptied', (file) => fs.writeFileSync(file, ''), /metrics\.jsonl holds only 0 of the 3 records/],
      ['cut short', (file) => fs.writeFileSync(file, '{"a":1}\n{"a":2}'), /holds only 1 of the 3 records/],
    ];
    for (const [what, damage, message] of logCases) {
      it(`a resumed run refuses a log that was ${what}`, () => {
        const dir = folder({ 'config.json': JSON.stringify(OUR_CONFIG), 'checkpoints/last.safetensors': 'x', 'metrics.jsonl': '{"a":1}\n{"a":2}\n{"a":3}\n' });
        damage(path.join(dir, 'metrics.jsonl'));
        const { runDir } = RunDir.resume(dir);
        assert.throws(() => runDir.truncateLog('metrics', 3), (error: unknown) => error instanceof DasError && error.code === 'DAS_FILE' && message.test(error.message) && /restore the file/.test(error.message));
        runDir.close();
      });
    }

    it('a log line that is not JSON is named by file and line', () => {
      const dir = folder({ 'config.json': JSON.stringify(OUR_CONFIG), 'metrics.jsonl': '{"a":1}\n{oops\n' });
      assert.throws(() => RunDir.open(dir), /metrics\.jsonl line 2 is not a JSON record/);
    });

    it('keeps the longer log cut back to what the checkpoint recorded', () => {
      const dir = folder({ 'config.json': JSON.stringify(OUR_CONFIG), 'checkpoints/last.safetensors': 'x', 'metrics.jsonl': '{"a":1}\n{"a":2}\n{"a":3}\n' });
      const { runDir } = RunDir.resume(dir);
      runDir.truncateLog('metrics', 2);
      assert.equal(runDir.lineCount('metrics'), 2);
      assert.equal(fs.readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8'), '{"a":1}\n{"a":2}\n');
      runDir.close();
    });
  });

  describe('resuming with other settings: refused, or applied and said', () => {
    const refusals: [string, Record<string, unknown>, RegExp][] = [
      ['--lr', { lr: 2e-3 }, /--lr 0\.002 \(the run has 0\.001\)/],
      ['--epochs', { epochs: 5 }, /--epochs 5 \(the run has 3\)/],
      ['--seed', { seed: 1 }, /--seed 1 \(the run has 7\)/],
      ['--batch-size', { batchSize: 4 }, /--batch-size 4 \(the run has 8\)/],
      ['--effective-batch', { effectiveBatch: 32 }, /--effective-batch 32 \(the run has 16\)/],
      ['--task', { task: 'mnli' }, /--task "mnli" \(the run has "sst2"\)/],
      ['--model', { architecture: 'vilt' }, /--model "vilt"/],
      ['--turn (default stored)', { turn: 10 }, /--turn 10 \(the run has 2\)/],
      ['--samples (default stored)', { samples: 5 }, /--samples 5 \(the run has 3\)/],
      ['--skip-num', { skipNum: 2 }, /--skip-num 2 \(the run has 1\)/],
      ['--skip on a training run', { skip: ['En1'] }, /--skip \[En1\] \(the run has \[\]\)/],
    ];
    for (const [what, options, message] of refusals) {
      it(`refuses a different ${what}`, () => {
        assert.throws(() => reconcileResume(storedConfig(), options, '/runs/r'), (error: unknown) => error instanceof DasError && error.code === 'DAS_INVALID_ARGUMENT' && message.test(error.message) && /cannot resume \/runs\/r with different settings/.test(error.message));
      });
    }

    it('names every refused setting at once', () => {
      assert.throws(() => reconcileResume(storedConfig(), { lr: 1, epochs: 9 }, '/r'), /--lr 1 .*; --epochs 9 /);
    });

    it('accepts the same values, and options left out', () => {
      const same = { architecture: 'roberta', task: 'sst2', seed: 7, lr: 1e-3, epochs: 3, batchSize: 8, effectiveBatch: 16, turn: 2, samples: 3, gateLr: 1, skipNum: 1, scope: 'global', checkpoint: '/ckpt', data: '/data' } as const;
      const { config, applied } = reconcileResume(storedConfig(), same, '/r');
      assert.deepEqual(applied, []);
      assert.deepEqual(config, storedConfig());
    });

    it('applies a new device, checkpoint interval or file location, and reports each', () => {
      const { config, applied } = reconcileResume(storedConfig(), { device: 'cuda:0', checkpointEvery: 10, data: '/scratch/data', checkpoint: '/scratch/ckpt' }, '/r');
      assert.equal(config.device, 'cuda:0');
      assert.equal(config.checkpointEvery, 10);
      assert.equal(config.data, '/scratch/data');
      assert.equal(config.checkpoint, '/scratch/ckpt');
      assert.equal(applied.length, 4);
      assert.match(applied.join('\n'), /--device "cuda:0" \(the run has "cpu"\)/);
      assert.equal(storedConfig().device, 'cpu', 'the stored config object is not changed in place');
    });
  });
});
