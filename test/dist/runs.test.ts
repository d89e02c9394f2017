import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../lib/dist/launcher.js';
import { collect, rankEnv, runRanks } from '../support/dist-job.js';
import { cliPath, lastJsonLine, repoRoot } from '../support/repo.js';
import { makeTinyRobertaSetup, type TinySetup } from '../support/tiny-roberta.js';

const worker = path.join(repoRoot, 'dist/test/support/dist-search-worker.js');

/** `das <args>` as a child process (not waited for). */
function das(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, [cliPath, ...args], { env: { ...process.env, DAS_NUM_THREADS: '1', ...env } });
}

const run = (args: string[], env: NodeJS.ProcessEnv = {}) => collect(0, das(args, env));

function readLines(file: string): Record<string, unknown>[] {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) : [];
}

/** Resolves once rank 0 has logged `steps` training steps in `dir`. */
async function stepsLogged(dir: string, steps: number): Promise<void> {
  while (readLines(path.join(dir, 'metrics.jsonl')).filter((m) => m.type === 'train').length < steps) await new Promise((r) => setTimeout(r, 100));
}

describe('data-parallel runs (tiny RoBERTa, synthetic SST-2, 2 ranks on Gloo)', function () {
  this.timeout(900_000);
  let root: string;
  let setup: TinySetup;
  // 48 examples: 2 ranks x 4 per step = 6 steps an epoch, 18 in 3; reward rounds every 2 steps after the first epoch
  const options = (out: string) => ({ architecture: 'roberta', checkpoint: setup.checkpoint, task: 'sst2', data: setup.data, out, batchSize: 4, effectiveBatch: 8, lr: 1e-3, skipNum: 1, turn: 2, checkpointEvery: 3, seed: 7 });
  const searchArgs = (out: string) => ['search', '--model', 'roberta', '--checkpoint', setup.checkpoint, '--task', 'sst2', '--data', setup.data, '--batch-size', '4', '--effective-batch', '8', '--lr', '1e-3', '--skip-num', '1', '--turn', '2', '--checkpoint-every', '3', '--seed', '7', '--out', out, '--dist-timeout', '120'];
  let reference: { gates: Record<string, number>; skipped: string[]; lines: Record<string, unknown>[] };

  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'das-dp-runs-'));
    setup = await makeTinyRobertaSetup(root);
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('every rank ends the search with the gates gates.jsonl holds; rank 0 alone writes the run directory', async () => {
    const out = path.join(root, 'api');
    const ranks = await runRanks([worker, JSON.stringify(options(out)), path.join(root, 'api-result')], { worldSize: 2 });
    for (const r of ranks) assert.equal(r.code, 0, `rank ${r.rank}: ${r.stderr}`);
    const lines = readLines(path.join(out, 'gates.jsonl'));
    assert.equal(lines.length, 6);
    const results = [0, 1].map((r) => JSON.parse(fs.readFileSync(path.join(root, `api-result.rank${r}.json`), 'utf8')) as { gates: Record<string, number>; skipped: string[]; choices: unknown[] });
    for (const result of results) {
      assert.deepEqual(Object.values(result.gates), lines.at(-1)!.logits, 'the last gate update, bit for bit');
      assert.deepEqual(result, results[0]);
    }
    const config = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8'));
    assert.deepEqual(config.world, { size: 2, backend: 'gloo' });
    assert.equal(config.batchSize, 4);
    assert.equal(config.accumulation, 1);
    assert.deepEqual(fs.readdirSync(root).filter((f) => f.startsWith('api')).sort(), ['api', 'api-result.rank0.json', 'api-result.rank1.json']);
    reference = { gates: results[0]!.gates, skipped: results[0]!.skipped, lines };
  });

  it('das search --nproc-per-node 2 prints one result (rank 0) and searches exactly as the same job under torchrun variables', async () => {
    const out = path.join(root, 'cli');
    const result = await run([...searchArgs(out), '--nproc-per-node', '2', '--json']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim().split('\n').length, 1, `one line of stdout: ${result.stdout}`);
    const json = lastJsonLine(result.stdout) as { gates: Record<string, number>; skipped: string[] };
    assert.deepEqual(json.gates, reference.gates);
    assert.deepEqual(json.skipped, reference.skipped);
    assert.deepEqual(readLines(path.join(out, 'gates.jsonl')), reference.lines, 'the same seed gives the same search');
  });

  it('SIGKILL of rank 1 mid-run: rank 0 exits non-zero naming it; --resume then ends exactly like an uninterrupted run', async () => {
    const out = path.join(root, 'killed');
    const port = await freePort();
    const children = [0, 1].map((rank) => das(searchArgs(out), rankEnv(rank, 2, port)));
    const exits = children.map((child, rank) => collect(rank, child));
    await stepsLogged(out, 8); // between checkpoints (every 3 steps): resume redoes steps since step 6
    children[1]!.kill('SIGKILL');
    const [rank0, rank1] = await Promise.all(exits);
    assert.equal(rank1!.signal, 'SIGKILL');
    assert.equal(rank0!.code, 1, rank0!.stderr);
    assert.match(rank0!.stderr, /failed on rank 0: rank 1 was lost \(the process is gone or frozen: its heartbeat stopped\)/);
    assert.ok(!fs.existsSync(path.join(out, 'result.json')));

    const resumed = await run([...searchArgs(out), '--resume', '--nproc-per-node', '2', '--json']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.deepEqual((lastJsonLine(resumed.stdout) as { gates: unknown }).gates, reference.gates);
    assert.deepEqual(readLines(path.join(out, 'gates.jsonl')), reference.lines, 'no gate update lost or written twice');
    const steps = readLines(path.join(out, 'metrics.jsonl')).filter((m) => m.type === 'train').map((m) => m.step);
    assert.deepEqual(steps, Array.from({ length: 18 }, (_, i) => i + 1), 'every step logged once');
  });

  it('a run resumes only with the number of ranks that made it', async () => {
    const result = await run([...searchArgs(path.join(root, 'api')), '--resume', '--json']);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /was made by 2 ranks and cannot be resumed by 1: .* resume it with 2 ranks \(--nproc-per-node 2, or WORLD_SIZE=2\)/);
  });

  it('Ctrl-C at the launcher stops every rank at the same step, resumably', async () => {
    const out = path.join(root, 'interrupted');
    const launcher = das([...searchArgs(out), '--nproc-per-node', '2']);
    const exit = collect(0, launcher);
    await stepsLogged(out, 4);
    launcher.kill('SIGINT');
    const stopped = await exit;
    assert.equal(stopped.code, 130, stopped.stderr);
    assert.match(stopped.stderr, /stopped at step \d+ of 18; the run can be resumed/);
    assert.doesNotMatch(stopped.stderr, /rank \d+ \(pid/, 'no rank reported as failed');
    const resumed = await run([...searchArgs(out), '--resume', '--nproc-per-node', '2', '--json']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.deepEqual((lastJsonLine(resumed.stdout) as { gates: unknown }).gates, reference.gates);
  });

  it('the launcher names a worker that dies and stops the others', async () => {
    const out = path.join(root, 'launcher-kill');
    const launcher = das([...searchArgs(out), '--nproc-per-node', '2', '--json']);
    const exit = collect(0, launcher);
    await stepsLogged(out, 2);
    const rank1 = workerPid(launcher.pid!, '1');
    process.kill(rank1, 'SIGKILL');
    const result = await exit;
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, new RegExp(`das: rank 1 \\(pid ${rank1}\\) was killed by SIGKILL; stopping the other ranks`));
    const json = lastJsonLine(result.stdout) as { error: { code: string; message: string } };
    assert.equal(json.error.code, 'DAS_DISTRIBUTED');
    assert.match(json.error.message, /rank 1/);
  });

  it('ranks started with different options, a port in use, an unreachable master: clear errors before any work', async () => {
    const port = await freePort();
    const [a, b] = await Promise.all([0, 1].map((rank) => collect(rank, das([...searchArgs(path.join(root, 'mixed')), ...(rank === 1 ? ['--lr', '2e-3'] : [])], rankEnv(rank, 2, port)))));
    for (const r of [a!, b!]) {
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /the ranks disagree on the run configuration \(lr: rank 0 has 0\.001, rank 1 has 0\.002\): start every rank with the same arguments/);
    }
    assert.ok(!fs.existsSync(path.join(root, 'mixed')), 'nothing written');

    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, resolve));
    const taken = (busy.address() as net.AddressInfo).port;
    const inUse = await run(searchArgs(path.join(root, 'busy')), rankEnv(0, 2, taken));
    busy.close();
    assert.equal(inUse.code, 1);
    assert.match(inUse.stderr, new RegExp(`rank 0 cannot host the rendezvous: MASTER_PORT ${taken} is already in use \\(another job\\?\\); choose another MASTER_PORT`));

    const alone = await run([...searchArgs(path.join(root, 'alone')), '--dist-timeout', '2'], rankEnv(1, 2, await freePort()));
    assert.equal(alone.code, 1);
    assert.match(alone.stderr, /rank 1 cannot reach the rendezvous store of rank 0 at 127\.0\.0\.1:\d+ \(MASTER_ADDR:MASTER_PORT\) within 2 s/);

    const partial = await run(searchArgs(path.join(root, 'partial')), { RANK: '1' });
    assert.equal(partial.code, 2);
    assert.match(partial.stderr, /inconsistent distributed environment: RANK is set but not WORLD_SIZE/);
  });

  it('das train and das eval with 2 ranks: sharded evaluation gives exactly the one-process metrics', async () => {
    const out = path.join(root, 'train');
    const trainArgs = ['train', '--model', 'roberta', '--checkpoint', setup.checkpoint, '--task', 'sst2', '--data', setup.data, '--batch-size', '4', '--effective-batch', '8', '--lr', '1e-3', '--epochs', '2', '--skip', 'En1', '--seed', '3', '--out', out];
    const trained = await run([...trainArgs, '--nproc-per-node', '2', '--json']);
    assert.equal(trained.code, 0, trained.stderr);
    const [single, sharded] = await Promise.all([run(['eval', '--run', out, '--json']), run(['eval', '--run', out, '--json', '--nproc-per-node', '2'])]);
    assert.equal(single.code, 0, single.stderr);
    assert.equal(sharded.code, 0, sharded.stderr);
    const one = (lastJsonLine(single.stdout) as { metrics: Record<string, number> }).metrics;
    const two = (lastJsonLine(sharded.stdout) as { metrics: Record<string, number> }).metrics;
    assert.equal(two.examples, one.examples);
    assert.equal(two.accuracy, one.accuracy);
    assert.ok(Math.abs(two.loss! - one.loss!) < 1e-6, `loss ${two.loss} vs ${one.loss}`);
    // the training run's own last evaluation (sharded as well) matches too
    assert.equal((lastJsonLine(trained.stdout) as { metrics: Record<string, number> }).metrics.accuracy, one.accuracy);
  });

  it('method, precision and ranks are independent settings: LoRA in bf16 on 2 ranks, resumed, exported and served', async () => {
    const out = path.join(root, 'lora-bf16');
    const trainArgs = ['train', '--model', 'roberta', '--checkpoint', setup.checkpoint, '--task', 'sst2', '--data', setup.data, '--batch-size', '4', '--effective-batch', '8', '--lr', '1e-3', '--epochs', '2', '--seed', '5', '--out', out, '--method', 'lora', '--lora-r', '4', '--precision', 'bf16', '--checkpoint-every', '2', '--nproc-per-node', '2', '--json'];
    // stopped by Ctrl-C at the launcher once a checkpoint exists, then resumed with the same ranks
    const first = das(trainArgs);
    const stopped = collect(0, first);
    while (!fs.existsSync(path.join(out, 'checkpoints', 'last.safetensors'))) await new Promise((r) => setTimeout(r, 100));
    first.kill('SIGINT');
    const interrupted = await stopped;
    assert.notEqual(interrupted.code, 0, 'stopped before its 12 steps');
    const resumed = await run([...trainArgs, '--resume']);
    assert.equal(resumed.code, 0, resumed.stderr);
    const config = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8'));
    assert.equal(config.method.name, 'lora');
    assert.equal(config.method.r, 4);
    assert.equal(config.precision, 'bf16');
    assert.deepEqual(config.world, { size: 2, backend: 'gloo' });
    const train = readLines(path.join(out, 'metrics.jsonl')).filter((m) => m.type === 'train');
    assert.deepEqual(train.map((m) => m.step), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], 'every step logged once');
    assert.ok(train.every((m) => Number.isFinite(m.loss)));
    const params = (lastJsonLine(resumed.stdout) as { params: { updated: number } }).params;
    // LoRA r=4 on query and value of each of the 4 layers (32 wide); the head is not counted, as in Table C
    assert.equal(params.updated, 4 * 2 * 4 * (32 + 32));
    // the export (LoRA merged) evaluates in one process exactly as the run's adapters do in bf16
    const exported = path.join(root, 'lora-bf16-export');
    const exportRun = await run(['export', '--run', out, '--out', exported, '--json']);
    assert.equal(exportRun.code, 0, exportRun.stderr);
    const [fromRun, fromExport] = await Promise.all([run(['eval', '--run', out, '--json']), run(['eval', '--checkpoint', exported, '--data', setup.data, '--precision', 'bf16', '--batch-size', '4', '--json'])]);
    assert.equal(fromRun.code, 0, fromRun.stderr);
    assert.equal(fromExport.code, 0, fromExport.stderr);
    const a = (lastJsonLine(fromRun.stdout) as { metrics: Record<string, number> }).metrics;
    const b = (lastJsonLine(fromExport.stdout) as { metrics: Record<string, number> }).metrics;
    assert.equal(b.examples, a.examples);
    assert.ok(Math.abs(b.accuracy! - a.accuracy!) <= 1 / a.examples!, `accuracy ${b.accuracy} vs ${a.accuracy} (bf16, LoRA merged)`);
  });
});

/** The pid of the launcher's worker with RANK=`rank` (Linux: from /proc). */
function workerPid(launcher: number, rank: string): number {
  for (const entry of fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parent !== launcher) continue;
      const env = fs.readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
      if (env.includes(`RANK=${rank}`)) return Number(entry);
    } catch {
      // a process that ended meanwhile
    }
  }
  throw new Error(`no worker with RANK=${rank} under the launcher ${launcher}`);
}

