#!/usr/bin/env node
// Search overhead: one DAS search epoch after the warm-up (training steps + reward rounds every
// `turn` steps) vs one plain adapter-training epoch of the same steps, side by side in one run.
// The time is taken from the first to the last training step of the second epoch, so the
// per-epoch evaluation of training runs is not counted. Target: at most 1.15x.
//
//   node scripts/bench/search_overhead.mjs [--examples 960] [--rounds 2]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { data } from '../../dist/lib/index.js';
import { writeRandomRobertaCheckpoint } from '../../dist/lib/models/random-checkpoint.js';
import { search, train } from '../../dist/lib/train/runs.js';

const arg = (name, fallback) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};
const examples = arg('--examples', 960);
const rounds = arg('--rounds', 2);
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'das-overhead-'));
const shape = { hidden: 256, layers: 6, heads: 4, intermediate: 1024 };
const checkpoint = await writeRandomRobertaCheckpoint(path.join(root, 'checkpoint'), shape);
await data.generateSyntheticDataset({ task: 'sst2', dir: path.join(root, 'data'), size: examples, seed: 1 });
const common = { architecture: 'roberta', checkpoint, task: 'sst2', data: path.join(root, 'data'), batchSize: 16, effectiveBatch: 16, lr: 1e-3, epochs: 2, checkpointEvery: 1000 };

/** Seconds from the first to the last training step of epoch 2 (index 1). */
async function secondEpoch(run, options) {
  let first;
  let last;
  let steps = 0;
  await run({
    ...options,
    onProgress: (event) => {
      if (event.phase !== 'train' || event.epoch !== 1) return;
      const now = performance.now();
      first ??= now;
      last = now;
      steps++;
    },
  });
  return { seconds: (last - first) / 1000, steps: steps - 1 };
}

let best = { search: Infinity, train: Infinity };
let steps = 0;
for (let round = 0; round < rounds; round++) {
  const s = await secondEpoch(search, { ...common, out: path.join(root, `search-${round}`), skipNum: 2, turn: 10, samples: 3 });
  // the same number of layers skipped as the search's subnetworks, so both steps cost the same
  const t = await secondEpoch(train, { ...common, out: path.join(root, `train-${round}`), skip: ['En1', 'En4'] });
  best = { search: Math.min(best.search, s.seconds), train: Math.min(best.train, t.seconds) };
  steps = s.steps;
}
fs.rmSync(root, { recursive: true, force: true });
console.log(`RoBERTa hidden ${shape.hidden} x ${shape.layers} layers, batch 16, ${steps} timed steps per epoch, turn 10, 3 samples per reward round`);
console.log(`  search epoch (training + reward rounds) ${best.search.toFixed(2)} s`);
console.log(`  training epoch                          ${best.train.toFixed(2)} s`);
console.log(`  ratio search/training ${(best.search / best.train).toFixed(3)}  (target <= 1.15; best of ${rounds} rounds)`);
