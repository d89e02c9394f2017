#!/usr/bin/env node
// Inference of exported DAS models vs the original published model at the same batch size, side by
// side in one run, for RoBERTa-base (batches of 8 x 128 tokens), ViLT-B/32 and METER-CLIP16-RoBERTa
// (VQA: 40 text tokens + a 384x384 image), all at their real sizes with random weights. Each
// architecture is measured with 0, 2 and 4 layers skipped. Every model is loaded the way
// `das predict` loads it (the original with no adapters; exports from their folders alone), then
// forward passes are timed round-robin so that machine load hits all models alike. Prints latency,
// throughput and the time ratio next to the FLOPs ratio.
//
//   node scripts/bench/export_latency.mjs [--model roberta|vilt|meter|all] [--rounds 5] [--batch N]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { data, METER_CLIP16_ROBERTA, ROBERTA_BASE, robertaFlops, VILT_B32 } from '../../dist/lib/index.js';
import { loadPretrained } from '../../dist/lib/models/pretrained-any.js';
import { writeRandomRobertaCheckpoint, writeRandomVlCheckpoint } from '../../dist/lib/models/random-checkpoint.js';
import { exportRun } from '../../dist/lib/serve/export.js';
import { modelCost } from '../../dist/lib/train/run-model.js';
import { train } from '../../dist/lib/train/runs.js';

const option = (name, fallback) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : fallback;
};
const which = option('--model', 'all');
const rounds = Number(option('--rounds', 5));

function textBatch(batchSize, tokens, first, last) {
  const ids = new Int32Array(batchSize * tokens).map((_, i) => 5 + ((i * 7919) % 40));
  for (let b = 0; b < batchSize; b++) [ids[b * tokens], ids[b * tokens + tokens - 1]] = [first, last];
  return {
    input_ids: { dtype: 'int32', shape: [batchSize, tokens], data: ids },
    attention_mask: { dtype: 'uint8', shape: [batchSize, tokens], data: new Uint8Array(batchSize * tokens).fill(1) },
  };
}

function imageBatch(batchSize, size) {
  const pixels = new Float32Array(batchSize * 3 * size * size).map((_, i) => Math.sin(i * 0.001));
  return {
    pixel_values: { dtype: 'float32', shape: [batchSize, 3, size, size], data: pixels },
    pixel_mask: { dtype: 'uint8', shape: [batchSize, size, size], data: new Uint8Array(batchSize * size * size).fill(1) },
  };
}

const SUITES = {
  roberta: {
    title: 'RoBERTa-base, batch 8 x 128 tokens',
    task: 'sst2',
    batchSize: 8,
    skips: [[], ['En5', 'En10'], ['En2', 'En5', 'En8', 'En10']],
    checkpoint: (dir) => writeRandomRobertaCheckpoint(dir, { hidden: 768, layers: 12, heads: 12, intermediate: 3072, vocabSize: ROBERTA_BASE.vocabSize, maxPositions: 514 }, 42, true),
    batch: (n) => textBatch(n, 128, 0, 2),
    // FLOPs at the measured input, not the paper's 512 tokens
    flops: (config, skip) => robertaFlops(config, { tokens: 128, skip }).flops,
  },
  vilt: {
    title: 'ViLT-B/32 VQA, batch 8 x (40 text tokens + a 384x384 image)',
    task: 'vqa',
    batchSize: 8,
    skips: [[], ['En5', 'En10'], ['En2', 'En5', 'En8', 'En10']],
    checkpoint: (dir) => writeRandomVlCheckpoint(dir, 'vilt', { ...VILT_B32, task: 'vqa' }),
    batch: (n) => ({ ...textBatch(n, 40, 2, 3), ...imageBatch(n, 384) }),
    flops: (config, skip) => modelCost('vilt', config, skip).flops,
  },
  meter: {
    title: 'METER-CLIP16-RoBERTa VQA, batch 4 x (40 text tokens + a 384x384 image)',
    task: 'vqa',
    batchSize: 4,
    skips: [[], ['FV2', 'FV4'], ['FV1', 'FV2', 'FV4', 'LEn9']],
    checkpoint: (dir) => writeRandomVlCheckpoint(dir, 'meter', { ...METER_CLIP16_ROBERTA, task: 'vqa' }),
    batch: (n) => ({ ...textBatch(n, 40, 0, 2), ...imageBatch(n, 384) }),
    flops: (config, skip) => modelCost('meter', config, skip).flops,
  },
};

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function measure(architecture, suite) {
  const batchSize = Number(option('--batch', suite.batchSize));
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `das-export-bench-${architecture}-`));
  try {
    const checkpoint = await suite.checkpoint(path.join(root, 'checkpoint'));
    const dataDir = path.join(root, 'data');
    await data.generateSyntheticDataset({ task: suite.task, dir: dataDir, size: suite.task === 'vqa' ? 2 : 8, seed: 1 });
    const { model: original } = await loadPretrained(architecture, checkpoint, { task: suite.task, withoutAdapters: true });
    const sourceBytes = fs.statSync(path.join(checkpoint, 'model.safetensors')).size;
    const base = suite.flops(original.config, []);
    const models = [{ name: 'original (published, no adapters)', model: original, skip: [], flops: base, bytes: sourceBytes, times: [] }];
    for (const skip of suite.skips) {
      const run = path.join(root, `run-${skip.length}`);
      // one short training run gives a real run directory whose adapters the export takes
      await train({ architecture, checkpoint, task: suite.task, data: dataDir, out: run, skip, batchSize: 4, effectiveBatch: 4, epochs: 1, lr: 1e-4 });
      const exported = await exportRun({ run, out: path.join(root, `export-${skip.length}`) });
      const { model } = await loadPretrained(architecture, exported.out, { task: suite.task });
      models.push({ name: `export, skip ${skip.join(',') || '(none)'}`, model, skip, flops: suite.flops(model.config, skip), bytes: exported.bytes, times: [] });
    }
    const batch = suite.batch(batchSize);
    for (const m of models) await m.model.evalStep(batch, { skip: m.skip }); // warm-up
    for (let round = 0; round < rounds; round++) {
      for (const m of models) {
        const start = performance.now();
        await m.model.evalStep(batch, { skip: m.skip });
        m.times.push((performance.now() - start) / 1000);
      }
    }
    for (const m of models) await m.model.dispose();
    const reference = median(models[0].times);
    console.log(`\n${suite.title} (random weights), median of ${rounds} round-robin rounds`);
    console.log('model                                  ms/batch  inputs/s  time ratio  FLOPs ratio  weights MiB');
    for (const m of models) {
      const t = median(m.times);
      console.log(
        `${m.name.padEnd(38)} ${(1000 * t).toFixed(0).padStart(8)}  ${(batchSize / t).toFixed(2).padStart(8)}  ${(t / reference).toFixed(3).padStart(10)}  ${(m.flops / base).toFixed(3).padStart(11)}  ${(m.bytes / 2 ** 20).toFixed(0).padStart(11)}`,
      );
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

for (const [architecture, suite] of Object.entries(SUITES)) {
  if (which === 'all' || which === architecture) await measure(architecture, suite);
}
