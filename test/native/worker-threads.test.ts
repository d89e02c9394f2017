import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// Each scenario runs in a fresh process (worker-scenarios.ts), because what matters is the order in
// which environments first load the addon and go away, and this test process has loaded it already.
const script = fileURLToPath(new URL('./worker-scenarios.js', import.meta.url));

function run(scenario: string): Record<string, any> {
  const child = spawnSync(process.execPath, [script, scenario], { encoding: 'utf8', timeout: 300_000 });
  const last = child.stdout.trim().split('\n').pop() ?? '';
  assert.equal(child.signal, null, `${scenario}: killed by ${child.signal}\n${child.stderr}`);
  assert.equal(child.status, 0, `${scenario}: exit code ${child.status} (3 = a call never settled)\n${last}\n${child.stderr}`);
  return JSON.parse(last) as Record<string, any>;
}

describe('the addon in worker threads', function () {
  this.timeout(300_000);

  it('keeps working on the main thread after a worker used it first and exited', () => {
    const out = run('worker-then-main');
    assert.equal(out.exitCode, 0);
    assert.deepEqual(out.main, out.worker, 'the same seeded steps give the same losses on either thread');
  });

  it('serves the main thread, then a worker, then the main thread again', () => {
    const out = run('main-worker-main');
    assert.deepEqual(out.worker, out.before);
    assert.deepEqual(out.after, out.before);
  });

  it('serves several workers at once beside the main thread, with each its own results', () => {
    const out = run('several-workers');
    assert.deepEqual(out.workers, out.alone, 'each worker computes what the main thread computes alone for its seed');
    assert.deepEqual(out.again, out.alone);
    assert.deepEqual(out.main, out.alone[0]);
    assert.equal(new Set(out.alone.map((losses: number[]) => losses[0])).size, 4, 'the seeds give different models');
    assert.equal(out.stats.environments, 1, 'only the main thread is attached at the end');
  });

  it('survives worker.terminate() while steps run or wait, and drops the terminated queue', () => {
    const out = run('terminate-mid-step');
    assert.deepEqual(out.terminated, [1, 1, 1], 'terminate() ends a worker with exit code 1');
    assert.ok(out.stats.jobsDropped >= 1, `no queued job was dropped: ${JSON.stringify(out.stats)}`);
    assert.deepEqual(out.worker, out.main, 'the addon still computes correctly on both kinds of thread');
    assert.equal(out.stats.environments, 1);
  });

  it('lets a worker leave with queued model changes and steps, or fail, its models never disposed', () => {
    const out = run('exit-with-queued-work');
    assert.deepEqual(out.exitCodes, [0, 0]);
    assert.equal(out.failed, 'planned failure inside the worker');
    assert.equal(out.main.length, 2);
    assert.equal(out.stats.environments, 1);
  });

  it('keeps a main-thread model usable across a worker that lives and dies meanwhile', () => {
    const out = run('model-outlives-worker');
    assert.equal(out.exitCode, 0);
    assert.deepEqual(out.main, out.worker);
  });
});
