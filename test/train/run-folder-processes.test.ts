import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runFolderState } from '../../lib/train/run-dir.js';
import { collect } from '../support/dist-job.js';
import { cliPath } from '../support/repo.js';
import { makeTinyRobertaSetup, type TinySetup } from '../support/tiny-roberta.js';

const das = (args: string[]) => spawn(process.execPath, [cliPath, ...args], { env: { ...process.env, DAS_NUM_THREADS: '1' } });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('run folders under real processes: a kill before the first checkpoint, two processes at once', function () {
  this.timeout(300_000);
  let root: string;
  let setup: TinySetup;
  const trainArgs = (out: string) => ['train', '--model', 'roberta', '--checkpoint', setup.checkpoint, '--task', 'sst2', '--data', setup.data, '--batch-size', '4', '--epochs', '2', '--seed', '1', '--out', out, '--json'];

  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'das-runfolder-proc-'));
    setup = await makeTinyRobertaSetup(root);
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('SIGKILL before the first checkpoint: the folder is a started run, --resume takes the stale lock and starts it over', async () => {
    const out = path.join(root, 'killed-early');
    const child = das(trainArgs(out));
    const exited = collect(0, child);
    while (!fs.existsSync(path.join(out, 'config.json'))) await sleep(10);
    child.kill('SIGKILL');
    assert.equal((await exited).signal, 'SIGKILL');
    assert.ok(!fs.existsSync(path.join(out, 'checkpoints', 'last.safetensors')), 'killed before its first checkpoint');
    assert.equal(runFolderState(out).kind, 'started');

    const resumed = await collect(0, das([...trainArgs(out), '--resume']));
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, /taking over the stale lock of /, 'the dead process\'s lock is named and taken over');
    assert.match(resumed.stderr, /stopped before its first checkpoint \(nothing to resume\): starting it over/);
    assert.equal(runFolderState(out).kind, 'finished');
    const steps = fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { type: string; step: number }).filter((r) => r.type === 'train').map((r) => r.step);
    assert.deepEqual(steps, Array.from({ length: steps.length }, (_, i) => i + 1), 'one log from step 1, nothing of the killed start');
  });

  it('two processes started on the same empty folder at once: one runs, the other is refused, and the log is one run\'s', async () => {
    const out = path.join(root, 'raced');
    fs.mkdirSync(out);
    const [a, b] = await Promise.all([collect(0, das(trainArgs(out))), collect(1, das(trainArgs(out)))]);
    const winners = [a, b].filter((r) => r.code === 0);
    const losers = [a, b].filter((r) => r.code !== 0);
    assert.equal(winners.length, 1, `exactly one run goes on (exit codes ${a.code}, ${b.code}): ${a.stderr}\n${b.stderr}`);
    assert.equal(losers[0]!.signal, null, 'the refused one exits, it does not crash');
    assert.match(losers[0]!.stderr, /in use by|being locked by another process|contended by other processes|already holds a run/);
    assert.equal(runFolderState(out).kind, 'finished');
    const steps = fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { type: string; step: number }).filter((r) => r.type === 'train').map((r) => r.step);
    assert.deepEqual(steps, Array.from({ length: steps.length }, (_, i) => i + 1), 'one run\'s log, not two interleaved');
  });
});
