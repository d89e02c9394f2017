/**
 * Scenarios of the addon used from several Node environments (the main thread and worker threads),
 * each run in a fresh process by worker-threads.test.ts: `node worker-scenarios.js <scenario>`.
 * The last stdout line is a JSON summary; a call that never settles ends the process with code 3.
 * Run as a worker (same file), it does what `workerData.job` says and posts the result.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { Model, type HostTensor, type RobertaConfig } from '../../lib/index.js';
import { loadBinding } from '../../lib/native/binding.js';

const TINY: RobertaConfig = {
  vocabSize: 64, hidden: 32, layers: 2, heads: 4, intermediate: 64, maxPositions: 40, typeVocabSize: 1, padTokenId: 1,
  layerNormEps: 1e-5, hiddenDropout: 0, attentionDropout: 0, numLabels: 3, adapterBottleneck: 4, skipBottleneck: 8, adapterScale: 1,
};
/** Big enough that a train step takes a while, so that a terminate lands while steps are in flight or queued. */
const SLOW: RobertaConfig = { ...TINY, vocabSize: 512, hidden: 128, layers: 2, heads: 4, intermediate: 512, maxPositions: 260 };

interface Job {
  kind: 'train' | 'slow' | 'exit-queued' | 'throw';
  seed: number;
  dispose?: boolean;
}

function batch(config: RobertaConfig, rows: number, tokens: number, seed: number): Record<string, HostTensor> {
  const ids = new Int32Array(rows * tokens);
  let state = seed + 1;
  for (let i = 0; i < ids.length; i++) {
    state = (state * 1103515245 + 12345) % 2147483648;
    ids[i] = 3 + (state % (config.vocabSize - 3));
  }
  const labels = new Int32Array(rows).map((_, i) => (i + seed) % config.numLabels);
  return { input_ids: { dtype: 'int32', shape: [rows, tokens], data: ids }, labels: { dtype: 'int32', shape: [rows], data: labels } };
}

/** One train step, an optimizer step and an eval step of a tiny model with this seed: [train loss, eval loss]. */
async function tinyRun(seed: number, dispose = true): Promise<number[]> {
  const model = await Model.create('roberta', TINY, { seed });
  await model.configureOptimizer({});
  const input = batch(TINY, 4, 12, seed);
  const train = await model.trainStep(input);
  await model.optimizerStep(1e-3);
  const evaluated = await model.evalStep(input);
  if (dispose) await model.dispose();
  return [train.loss, evaluated.loss!];
}

async function runJob(job: Job): Promise<unknown> {
  switch (job.kind) {
    case 'train':
      return tinyRun(job.seed, job.dispose ?? true);
    case 'slow': {
      // Queues long steps on three models (one native job each in flight), says so, and waits;
      // the main thread terminates this worker meanwhile.
      const models = await Promise.all([0, 1, 2].map((i) => Model.create('roberta', SLOW, { seed: job.seed + i })));
      await Promise.all(models.map((model) => model.configureOptimizer({})));
      const steps = models.flatMap((model) => [0, 1].map((i) => model.trainStep(batch(SLOW, 8, 128, i))));
      parentPort!.postMessage({ started: true });
      return (await Promise.all(steps)).map((s) => s.loss);
    }
    case 'exit-queued': {
      // Queues work (model changes included) and leaves at once, the model never disposed.
      const model = await Model.create('roberta', SLOW, { seed: job.seed });
      void model.setTrainable(null);
      void model.configureOptimizer({});
      for (let i = 0; i < 3; i++) void model.trainStep(batch(SLOW, 8, 128, i));
      process.exit(0);
    }
    case 'throw': {
      const model = await Model.create('roberta', TINY, { seed: job.seed });
      void model.trainStep(batch(TINY, 2, 8, 0));
      throw new Error('planned failure inside the worker');
    }
  }
}

/** Runs a job in a new worker: its result, or how it ended. */
function inWorker(job: Job, onStarted?: (worker: Worker) => void): Promise<{ result?: unknown; error?: string; exitCode: number }> {
  return new Promise((resolve) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: { job } });
    let result: unknown;
    let error: string | undefined;
    worker.on('message', (message: { started?: boolean; result?: unknown }) => {
      if (message.started) onStarted?.(worker);
      else result = message.result;
    });
    worker.on('error', (e) => (error = e.message));
    worker.on('exit', (exitCode) => resolve({ result, error, exitCode }));
  });
}

function stats(): ReturnType<ReturnType<typeof loadBinding>['binding']['computeThreadStats']> {
  return loadBinding().binding.computeThreadStats();
}

const scenarios: Record<string, () => Promise<Record<string, unknown>>> = {
  /** A worker uses the addon first and exits; the main thread then uses it (it used to hang). */
  async 'worker-then-main'() {
    const worker = await inWorker({ kind: 'train', seed: 5 });
    const main = await tinyRun(5);
    return { worker: worker.result, main, exitCode: worker.exitCode };
  },
  /** The main thread, then a worker, then the main thread again. */
  async 'main-worker-main'() {
    const before = await tinyRun(6);
    const worker = await inWorker({ kind: 'train', seed: 6 });
    const after = await tinyRun(6);
    return { before, worker: worker.result, after, exitCode: worker.exitCode };
  },
  /** Several workers at once, beside the main thread, then again after they all left. */
  async 'several-workers'() {
    const seeds = [1, 2, 3, 4];
    const [workers, main] = await Promise.all([Promise.all(seeds.map((seed) => inWorker({ kind: 'train', seed }))), tinyRun(1)]);
    const again = await Promise.all(seeds.map((seed) => inWorker({ kind: 'train', seed })));
    const alone = await Promise.all(seeds.map((seed) => tinyRun(seed)));
    return { workers: workers.map((w) => w.result), again: again.map((w) => w.result), main, alone, stats: stats() };
  },
  /** worker.terminate() while the worker's steps run or wait on the compute thread (it used to crash). */
  async 'terminate-mid-step'() {
    const terminated: number[] = [];
    for (let round = 0; round < 3; round++) {
      const ended = await inWorker({ kind: 'slow', seed: round }, (worker) => {
        setTimeout(() => void worker.terminate(), 40 * round);
      });
      terminated.push(ended.exitCode);
    }
    const main = await tinyRun(7);
    const worker = await inWorker({ kind: 'train', seed: 7 });
    return { terminated, main, worker: worker.result, stats: stats() };
  },
  /** A worker leaves with process.exit() while its model changes and steps are queued; its model is never disposed. */
  async 'exit-with-queued-work'() {
    const ended = await Promise.all([1, 2].map((seed) => inWorker({ kind: 'exit-queued', seed })));
    const failed = await inWorker({ kind: 'throw', seed: 3 });
    const main = await tinyRun(8);
    return { exitCodes: ended.map((e) => e.exitCode), failed: failed.error, main, stats: stats() };
  },
  /** A worker that never used the addon before the main thread loads it; the main thread's model outlives the worker. */
  async 'model-outlives-worker'() {
    const model = await Model.create('roberta', TINY, { seed: 9 });
    await model.configureOptimizer({});
    const input = batch(TINY, 4, 12, 9);
    const first = await model.trainStep(input);
    const worker = await inWorker({ kind: 'train', seed: 9, dispose: false });
    await model.optimizerStep(1e-3);
    const evaluated = await model.evalStep(input);
    await model.dispose();
    return { main: [first.loss, evaluated.loss!], worker: worker.result, exitCode: worker.exitCode };
  },
};

async function main(): Promise<void> {
  const name = process.argv[2] ?? '';
  const scenario = scenarios[name];
  if (!scenario) throw new Error(`unknown scenario ${JSON.stringify(name)}; known: ${Object.keys(scenarios).join(', ')}`);
  const hung = setTimeout(() => {
    console.log(JSON.stringify({ hung: name }));
    process.exit(3);
  }, 240_000);
  const summary = await scenario();
  clearTimeout(hung);
  console.log(JSON.stringify(summary));
}

if (isMainThread) {
  await main();
} else {
  const result = await runJob((workerData as { job: Job }).job);
  parentPort!.postMessage({ result });
}
