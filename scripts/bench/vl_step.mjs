#!/usr/bin/env node
// ViLT-B/32 and METER (CLIP-ViT-B/16 + RoBERTa-base) at their real sizes with random weights, small
// batches: the adapter training step (forward + backward + AdamW) and forward latency with 0, 2, 4
// and 8 layers skipped next to the FLOPs saved, the achieved GFLOP/s next to this machine's GEMM
// rate, and METER's step with and without the feature cache of its frozen vision and language
// encoders. Prints ratios measured side by side in one run.
//
//   node scripts/bench/vl_step.mjs [--batch 2] [--steps 3] [--repeats 3] [--models vilt,meter] [--device cpu]
import { Model, runtimeInfo, timeGemm } from '../../dist/lib/index.js';
import { meterConfigFor, meterFlops, VILT_B32, viltFlops } from '../../dist/lib/index.js';

const arg = (name, fallback) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : fallback;
};
const batchSize = Number(arg('--batch', 2));
const steps = Number(arg('--steps', 3));
const repeats = Number(arg('--repeats', 3));
const models = arg('--models', 'vilt,meter').split(',');
const device = arg('--device', 'cpu');
const TEXT = 40;
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

function ids(rows, vocab, first) {
  const data = new BigInt64Array(rows * TEXT);
  for (let i = 0; i < data.length; i++) data[i] = BigInt(i % TEXT === 0 ? first : 3 + Math.floor(Math.random() * (vocab - 3)));
  return data;
}

function batchOf(config, size, vocab, first, keys) {
  const pixels = Float32Array.from({ length: batchSize * 3 * size * size }, () => Math.random() * 2 - 1);
  const batch = {
    input_ids: { dtype: 'int64', shape: [batchSize, TEXT], data: ids(batchSize, vocab, first) },
    attention_mask: { dtype: 'int64', shape: [batchSize, TEXT], data: new BigInt64Array(batchSize * TEXT).fill(1n) },
    pixel_values: { dtype: 'float32', shape: [batchSize, 3, size, size], data: pixels },
    targets: { dtype: 'float32', shape: [batchSize, config.numAnswers], data: Float32Array.from({ length: batchSize * config.numAnswers }, () => (Math.random() < 0.001 ? 1 : 0)) },
  };
  if (keys) {
    const k = { dtype: 'int64', shape: [batchSize], data: BigInt64Array.from({ length: batchSize }, (_, i) => BigInt(keys + i)) };
    batch.image_keys = k;
    batch.text_keys = k;
  }
  return batch;
}

async function timeSteps(model, batches, skip) {
  const times = [];
  for (let i = 0; i < steps + 1; i++) {
    const batch = batches[i % batches.length];
    const start = performance.now();
    await model.trainStep(batch, { skip });
    await model.optimizerStep(1e-4);
    if (i >= 1) times.push((performance.now() - start) / 1000);
  }
  return median(times);
}

// Forward latency per skip set, the sets interleaved round by round so that drift in machine load
// (other processes) hits every set alike; median per set.
async function timeForwards(model, batch, skips) {
  const times = skips.map(() => []);
  for (let round = 0; round < repeats + 1; round++) {
    for (let k = 0; k < skips.length; k++) {
      const start = performance.now();
      await model.evalStep(batch, { skip: skips[k] });
      if (round >= 1) times[k].push((performance.now() - start) / 1000);
    }
  }
  return times.map(median);
}

function printSkips(name, rows, gemmGflops) {
  console.log(`\n${name}: forward latency vs FLOPs (eval, no autograd, batch ${batchSize})`);
  console.log('  skipped                                   seconds   GFLOP/s  of GEMM  latency saved  FLOPs saved  saved ratio');
  const base = rows[0];
  for (const row of rows) {
    const gflops = (2 * row.macs) / row.seconds / 1e9; // GEMM rates count 2 FLOPs per multiply-add
    const latencySaved = 1 - row.seconds / base.seconds;
    const flopsSaved = 1 - row.macs / base.macs;
    const ratio = row.skip.length ? (latencySaved / flopsSaved).toFixed(2) : '-';
    console.log(
      `  ${(row.skip.join(',') || '(none)').padEnd(40)} ${row.seconds.toFixed(3).padStart(8)}  ${gflops.toFixed(1).padStart(8)}  ${(100 * gflops / gemmGflops).toFixed(0).padStart(6)}%` +
        `  ${(100 * latencySaved).toFixed(1).padStart(12)}%  ${(100 * flopsSaved).toFixed(1).padStart(10)}%  ${ratio.padStart(11)}`,
    );
  }
  console.log('  (saved ratio = latency saved / FLOPs saved, target >= 0.9; GFLOP/s = 2 x multiply-adds per second)');
}

async function vilt(gemmGflops) {
  const config = { ...VILT_B32, task: 'vqa' };
  const model = await Model.create('vilt', config, { device });
  await model.configureOptimizer({ headLrMultiplier: 10 });
  const batch = batchOf(config, 384, config.vocabSize, 101);
  const skips = [[], ['En5', 'En10'], ['En2', 'En5', 'En8', 'En10'], ['En1', 'En2', 'En4', 'En5', 'En7', 'En8', 'En10', 'En11']];
  const perExample = (skip) => viltFlops(config, { textTokens: TEXT, skip }).perExample.flops;
  const step = await timeSteps(model, [batch], ['En5', 'En10']);
  const seconds = await timeForwards(model, batch, skips);
  console.log(`\nViLT-B/32 VQA, ${TEXT} text tokens + 384x384 images (145 image tokens), batch ${batchSize}`);
  console.log(`  adapter training step (skip En5,En10): ${step.toFixed(3)} s = ${(step / seconds[1]).toFixed(2)}x its forward`);
  const rows = skips.map((skip, k) => ({ skip, seconds: seconds[k], macs: batchSize * perExample(skip) }));
  printSkips('ViLT-B/32', rows, gemmGflops);
  return rows;
}

async function meter(gemmGflops) {
  const config = { ...meterConfigFor('vqa'), featureCacheBytes: 8 * 2 ** 30 };
  const model = await Model.create('meter', config, { device });
  await model.configureOptimizer({ headLrMultiplier: 50 });
  const skip = ['FL5', 'FV5'];
  // two distinct batches with keys (an "epoch" of two), and the same batches without keys
  const keyed = [batchOf(config, 384, config.text.vocabSize, 0, 100), batchOf(config, 384, config.text.vocabSize, 0, 200)];
  const keyless = keyed.map(({ image_keys: _i, text_keys: _t, ...rest }) => rest);
  for (const batch of keyed) await model.evalStep(batch, { skip }); // a first epoch fills the cache
  // steps without keys (the cache steps aside: everything recomputed) and with keys (frozen outputs
  // served from the cache), alternated step by step so that machine load hits both alike
  const times = { uncached: [], cached: [] };
  for (let i = 0; i < steps + 1; i++) {
    for (const [kind, list] of [['uncached', keyless], ['cached', keyed]]) {
      const start = performance.now();
      await model.trainStep(list[i % list.length], { skip });
      await model.optimizerStep(1e-4);
      if (i >= 1) times[kind].push((performance.now() - start) / 1000);
    }
  }
  const uncached = median(times.uncached);
  const cached = median(times.cached);
  const counters = await model.counters();
  console.log(`\nMETER (CLIP-ViT-B/16, ${config.vision.layers} blocks + RoBERTa-base + 6+6 fusion) VQA, ${TEXT} text tokens + 384x384 images (577 image tokens), batch ${batchSize}`);
  console.log(`  adapter training step (fusion scope, skip ${skip.join(',')})`);
  console.log(`    without the feature cache  ${uncached.toFixed(3)} s`);
  console.log(`    with the feature cache     ${cached.toFixed(3)} s   (cache hits: image ${counters['cache.image.hits']}, text ${counters['cache.text.hits']}; ${(counters['cache.bytes'] / 2 ** 20).toFixed(1)} MiB)`);
  console.log(`    speed-up ${(uncached / cached).toFixed(2)}x  (target >= 2)`);
  const perExample = (s) => meterFlops(config, { textTokens: TEXT, skip: s }).perExample.flops;
  const skips = [[], ['FL5', 'FV5'], ['FL4', 'FL5', 'FV4', 'FV5'], ['FL2', 'FL3', 'FL4', 'FL5', 'FV2', 'FV3', 'FV4', 'FV5']];
  const seconds = await timeForwards(model, keyless[0], skips);
  const rows = skips.map((s, k) => ({ skip: s, seconds: seconds[k], macs: batchSize * perExample(s) }));
  printSkips('METER', rows, gemmGflops);
  return { uncached, cached, rows };
}

// The machine's GEMM rate, best of a few tries (another process competing for the cores lowers one try).
let gemmGflops = 0;
async function measureGemm() {
  for (let i = 0; i < 3; i++) gemmGflops = Math.max(gemmGflops, (await timeGemm({ n: 1024, iterations: 10, warmup: 2, device })).gflops);
  return gemmGflops;
}

const info = runtimeInfo();
await measureGemm();
console.log(`das-torch vl_step: ${device}, ${info.threads.intraOp} threads, BLAS ${info.blas.vendor}; float32 GEMM 1024^3: ${gemmGflops.toFixed(1)} GFLOP/s (best of 3)`);
console.log(`median of ${steps} steps / ${repeats} forwards after one warm-up; random weights; load average before: ${(await import('node:os')).loadavg()[0].toFixed(2)}`);
if (models.includes('vilt')) await vilt(await measureGemm());
if (models.includes('meter')) await meter(await measureGemm());
console.log(`\nload average after: ${(await import('node:os')).loadavg()[0].toFixed(2)} (on a shared machine, other processes distort every number above)`);
