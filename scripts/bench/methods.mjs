#!/usr/bin/env node
// Every parameter-efficient method side by side on roberta-base (batch 8 x 128 tokens) and ViLT-B/32
// (VQA, 40 text tokens + a 384x384 image), random weights: updated parameters, the training step
// (forward + backward + AdamW), peak memory (RSS of a process that only builds and trains that
// model), and eval latency with no layer and with two layers skipped (the method plus skip
// adapters; LoRA merged first, as das export does), next to the analytic FLOPs. Full tuning is the
// reference: every other method should train in less time and memory. Each (model, method) runs in
// its own child process so that peak RSS belongs to it alone; the methods of a model run one after
// another under the same machine load, and the table prints ratios to full tuning.
//
//   node scripts/bench/methods.mjs [--models roberta,vilt] [--methods full,bitfit,...] [--steps 3] [--repeats 3]
//                                  [--batch 8] [--tokens 128] [--device cpu] [--tiny]
// --tiny: small configurations (a quick check that the script works; the numbers mean little).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { METHOD_NAMES, Model, resolveMethod, ROBERTA_BASE, robertaFlops, VILT_B32, viltFlops } from '../../dist/lib/index.js';

const arg = (name, fallback) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : fallback;
};
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

function configs(tiny) {
  if (!tiny) return { roberta: { ...ROBERTA_BASE, numLabels: 3 }, vilt: { ...VILT_B32 } };
  return {
    roberta: { ...ROBERTA_BASE, vocabSize: 1000, hidden: 64, layers: 4, heads: 4, intermediate: 128, numLabels: 3 },
    vilt: { ...VILT_B32, vocabSize: 1000, hidden: 64, layers: 4, heads: 4, mlp: 128, numAnswers: 50, imageSize: 128 },
  };
}

const SKIPPED = { roberta: ['En3', 'En10'], vilt: ['En3', 'En10'] };

function batchFor(architecture, config, options) {
  const rows = architecture === 'roberta' ? options.batch : Math.min(options.batch, 8);
  const tokens = architecture === 'roberta' ? options.tokens : 40;
  const ids = BigInt64Array.from({ length: rows * tokens }, (_, i) => BigInt(i % tokens === 0 ? 0 : 3 + ((i * 7919) % (config.vocabSize - 3))));
  const batch = {
    input_ids: { dtype: 'int64', shape: [rows, tokens], data: ids },
    attention_mask: { dtype: 'int64', shape: [rows, tokens], data: new BigInt64Array(rows * tokens).fill(1n) },
  };
  if (architecture === 'roberta') return { ...batch, labels: { dtype: 'int64', shape: [rows], data: BigInt64Array.from({ length: rows }, (_, i) => BigInt(i % 3)) } };
  const size = config.imageSize;
  return {
    ...batch,
    pixel_values: { dtype: 'float32', shape: [rows, 3, size, size], data: Float32Array.from({ length: rows * 3 * size * size }, (_, i) => Math.sin(i) * 0.5) },
    targets: { dtype: 'float32', shape: [rows, config.numAnswers], data: Float32Array.from({ length: rows * config.numAnswers }, (_, i) => (i % 97 === 0 ? 1 : 0)) },
  };
}

/** The child: one model with one method, trained and timed; prints one JSON line. */
async function worker(job) {
  const config = configs(job.tiny)[job.architecture];
  const skipped = job.tiny ? ['En1', 'En2'] : SKIPPED[job.architecture];
  // skip adapters where the eval skips, so one model measures both latencies
  const method = resolveMethod({ name: job.method, ...(job.method === 'das' ? {} : { skipLayers: skipped }) });
  const model = await Model.create(job.architecture, config, { device: job.device, method });
  const batch = batchFor(job.architecture, config, job);
  await model.configureOptimizer({});
  const steps = [];
  for (let i = 0; i <= job.steps; i++) {
    const start = performance.now();
    await model.trainStep(batch);
    await model.optimizerStep(1e-5);
    if (i > 0) steps.push(performance.now() - start);
  }
  await model.mergeLora();
  const evals = { none: [], skipped: [] };
  for (let round = 0; round <= job.repeats; round++) {
    for (const [key, skip] of [['none', []], ['skipped', skipped]]) {
      const start = performance.now();
      await model.evalStep(batch, { skip });
      if (round > 0) evals[key].push(performance.now() - start);
    }
  }
  const counts = model.parameterCounts();
  await model.dispose();
  const flops = (skip) =>
    job.architecture === 'roberta'
      ? robertaFlops(config, { tokens: job.tokens, skip, method })
      : viltFlops(config, { textTokens: 40, skip, method });
  const plain = flops([]);
  const report = flops(skipped);
  console.log(
    JSON.stringify({
      architecture: job.architecture,
      method: job.method,
      updated: plain.params.updated + (job.method === 'full' ? plain.params.head : 0),
      trainable: counts.updated,
      stepMs: median(steps),
      maxRssMb: process.resourceUsage().maxRSS / 1024,
      evalMs: median(evals.none),
      evalSkippedMs: median(evals.skipped),
      flops: plain.flops,
      flopsSkipped: report.flops,
      baseFlops: plain.baseFlops,
      skipped,
    }),
  );
}

function main() {
  const options = {
    models: arg('--models', 'roberta,vilt').split(','),
    methods: arg('--methods', METHOD_NAMES.join(',')).split(','),
    steps: Number(arg('--steps', 3)),
    repeats: Number(arg('--repeats', 3)),
    batch: Number(arg('--batch', 8)),
    tokens: Number(arg('--tokens', 128)),
    device: arg('--device', 'cpu'),
    tiny: process.argv.includes('--tiny'),
  };
  if (!options.methods.includes('full')) options.methods.unshift('full'); // the reference row
  const script = fileURLToPath(import.meta.url);
  const rows = [];
  for (const architecture of options.models) {
    for (const method of options.methods) {
      const child = spawnSync(process.execPath, [script, '--worker', JSON.stringify({ ...options, architecture, method })], { encoding: 'utf8', maxBuffer: 1 << 24 });
      if (child.status !== 0) {
        console.error(`${architecture} ${method} failed:\n${child.stderr}`);
        process.exitCode = 1;
        continue;
      }
      rows.push(JSON.parse(child.stdout.trim().split('\n').pop()));
      process.stderr.write(`  ${architecture} ${method} done\n`);
    }
  }
  const input = (a) => (a === 'roberta' ? `${options.batch} x ${options.tokens} tokens` : `${Math.min(options.batch, 8)} x (40 tokens + image)`);
  console.log(`\nmethods side by side (${options.tiny ? 'TINY configurations' : 'roberta-base, ViLT-B/32'}, random weights, device ${options.device}; ratios to full tuning)`);
  console.log('model    method    updated params   step ms (x full)  peak RSS MB (x full)   eval ms  eval ms skip 2 (x)   GFLOPs/example  skip 2    ');
  for (const architecture of options.models) {
    const reference = rows.find((r) => r.architecture === architecture && r.method === 'full');
    for (const r of rows.filter((row) => row.architecture === architecture)) {
      const ratio = (value, base) => (base ? `(${(value / base).toFixed(2)})` : '');
      console.log(
        [
          architecture.padEnd(8),
          r.method.padEnd(8),
          r.updated.toLocaleString('en-US').padStart(15),
          `${r.stepMs.toFixed(0)} ${ratio(r.stepMs, reference?.stepMs)}`.padStart(17),
          `${r.maxRssMb.toFixed(0)} ${ratio(r.maxRssMb, reference?.maxRssMb)}`.padStart(20),
          r.evalMs.toFixed(1).padStart(9),
          `${r.evalSkippedMs.toFixed(1)} ${ratio(r.evalSkippedMs, r.evalMs)}`.padStart(20),
          (r.flops / 1e9).toFixed(3).padStart(15),
          (r.flopsSkipped / 1e9).toFixed(3).padStart(8),
        ].join(' '),
      );
    }
    console.log(`  (${input(architecture)}; skip 2 = ${rows.find((r) => r.architecture === architecture)?.skipped.join(', ')})`);
  }
  const heavier = rows.filter((r) => r.method !== 'full' && rows.some((f) => f.architecture === r.architecture && f.method === 'full' && r.maxRssMb >= f.maxRssMb));
  if (heavier.length) console.log(`\nNOTE: not lighter than full tuning in peak RSS: ${heavier.map((r) => `${r.architecture}/${r.method}`).join(', ')}`);
}

if (process.argv[2] === '--worker') await worker(JSON.parse(process.argv[3]));
else main();
