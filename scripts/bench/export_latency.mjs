#!/usr/bin/env node
// Inference of exported DAS models vs the original published model at the same batch size, side by
// side in one run: roberta-base size (random weights), batches of 8 x 128 tokens, with 0, 2 and 4
// layers skipped. Every model is loaded the way `das predict` loads it (the original with no
// adapters; exports from their folders alone), then forward passes are timed round-robin so that
// machine load hits all models alike. Prints latency, throughput and ratios next to the FLOPs ratio.
//
//   node scripts/bench/export_latency.mjs [--batch 8] [--rounds 6]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { data, loadPretrainedRoberta, ROBERTA_BASE, robertaFlops } from '../../dist/lib/index.js';
import { writeRandomRobertaCheckpoint } from '../../dist/lib/models/random-checkpoint.js';
import { exportRun } from '../../dist/lib/serve/export.js';
import { train } from '../../dist/lib/train/runs.js';

const arg = (name, fallback) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};
const batchSize = arg('--batch', 8);
const rounds = arg('--rounds', 6);
const tokens = 128;
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'das-export-bench-'));
const shape = { hidden: 768, layers: 12, heads: 12, intermediate: 3072, vocabSize: ROBERTA_BASE.vocabSize, maxPositions: 514 };
const checkpoint = await writeRandomRobertaCheckpoint(path.join(root, 'roberta-base'), shape, 42, true);
await data.generateSyntheticDataset({ task: 'sst2', dir: path.join(root, 'data'), size: 8, seed: 1 });

const ids = new Int32Array(batchSize * tokens).map((_, i) => 4 + ((i * 7919) % 390));
for (let b = 0; b < batchSize; b++) [ids[b * tokens], ids[b * tokens + tokens - 1]] = [0, 2]; // <s> ... </s>
const batch = {
  input_ids: { dtype: 'int32', shape: [batchSize, tokens], data: ids },
  attention_mask: { dtype: 'uint8', shape: [batchSize, tokens], data: new Uint8Array(batchSize * tokens).fill(1) },
};

const config = { ...ROBERTA_BASE, numLabels: 2 };
const baseFlops = robertaFlops(config, { tokens }).baseFlops;
const sourceBytes = fs.statSync(path.join(checkpoint, 'model.safetensors')).size;
const original = (await loadPretrainedRoberta(checkpoint, { overrides: { adapterBottleneck: 0, skipBottleneck: 0 } })).model;
const models = [{ name: 'original (published, no adapters)', model: original, skip: [], flops: baseFlops, bytes: sourceBytes, times: [] }];
for (const skip of [[], ['En5', 'En10'], ['En2', 'En5', 'En8', 'En10']]) {
  const run = path.join(root, `run-${skip.length}`);
  // one short training run gives a real run directory whose adapters the export takes
  await train({ architecture: 'roberta', checkpoint, task: 'sst2', data: path.join(root, 'data'), out: run, skip, batchSize: 8, effectiveBatch: 8, epochs: 1, lr: 1e-4 });
  const exported = await exportRun({ run, out: path.join(root, `export-${skip.length}`) });
  const { model } = await loadPretrainedRoberta(exported.out);
  models.push({ name: `export, skip ${skip.join(',') || '(none)'}`, model, skip, flops: robertaFlops(config, { tokens, skip }).flops, bytes: exported.bytes, times: [] });
}

for (const m of models) await m.model.evalStep(batch, { skip: m.skip }); // warm-up
for (let round = 0; round < rounds; round++) {
  for (const m of models) {
    const start = performance.now();
    await m.model.evalStep(batch, { skip: m.skip });
    m.times.push((performance.now() - start) / 1000);
  }
}
fs.rmSync(root, { recursive: true, force: true });

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const reference = median(models[0].times);
console.log(`roberta-base size (random weights), batch ${batchSize} x ${tokens} tokens, median of ${rounds} round-robin rounds`);
console.log('model                              ms/batch  inputs/s  time ratio  FLOPs ratio  weights MiB');
for (const m of models) {
  const t = median(m.times);
  console.log(
    `${m.name.padEnd(34)} ${(1000 * t).toFixed(0).padStart(8)}  ${(batchSize / t).toFixed(1).padStart(8)}  ${(t / reference).toFixed(3).padStart(10)}  ${(m.flops / baseFlops).toFixed(3).padStart(11)}  ${(m.bytes / 2 ** 20).toFixed(0).padStart(11)}`,
  );
}
