#!/usr/bin/env node
// fp32 vs bf16 on this CPU, side by side in one run: the adapter training step (forward + backward
// + AdamW) and the eval step of roberta-base (8 x 128 tokens) and ViLT-B/32 VQA (8 images of
// 384 x 384, 40 text tokens), random weights, through das-torch built against each libtorch given
// (Debian's 1.13 and pip's 2.x by default), and the Python peer a user would otherwise run:
// HuggingFace transformers + peft (LoRA r=16 on query/value, head trained) on torch 2.x. das-torch
// trains the same method (--method lora, r 16 on query/value) unless --method says another. Every
// measurement runs in its own process, so each reports its own peak RSS.
//
//   node scripts/bench/precision.mjs [--steps 5] [--warmup 2] [--models roberta,vilt] [--precisions fp32,bf16] [--method lora]
//        [--addons build/Release/das_torch.node,build-torch2-cpu/Release/das_torch.node] [--no-peer]
//        [--batch 8] [--seq 128] [--images 8] [--image-size 384]
//
// The peer's Python: DAS_TORCH2_PYTHON, else .venv/torch2-cpu/bin/python (scripts/setup-torch2.sh).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

function options(argv) {
  const arg = (name, fallback) => {
    const at = argv.indexOf(name);
    return at >= 0 ? argv[at + 1] : fallback;
  };
  return {
    steps: Number(arg('--steps', 5)),
    warmup: Number(arg('--warmup', 2)),
    models: arg('--models', 'roberta,vilt').split(','),
    precisions: arg('--precisions', 'fp32,bf16').split(','),
    addons: arg('--addons', 'build/Release/das_torch.node,build-torch2-cpu/Release/das_torch.node').split(',').filter(Boolean),
    peer: !argv.includes('--no-peer'),
    batch: Number(arg('--batch', 8)),
    seq: Number(arg('--seq', 128)),
    images: Number(arg('--images', 8)),
    imageSize: Number(arg('--image-size', 384)),
    threads: Number(arg('--threads', os.availableParallelism())),
    method: arg('--method', 'lora'),
  };
}

// ---- worker: one model in one precision through one das-torch build --------------------------

/** A small seeded generator, so that every side sees the same kind of input. */
function lcg(seed) {
  let state = seed >>> 0;
  return () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

function robertaBatch(spec, vocab) {
  const next = lcg(1);
  const n = spec.batch * spec.seq;
  return {
    input_ids: { dtype: 'int64', shape: [spec.batch, spec.seq], data: BigInt64Array.from({ length: n }, (_, i) => BigInt(i % spec.seq === 0 ? 0 : 3 + Math.floor(next() * (vocab - 3)))) },
    attention_mask: { dtype: 'int64', shape: [spec.batch, spec.seq], data: new BigInt64Array(n).fill(1n) },
    labels: { dtype: 'int64', shape: [spec.batch], data: BigInt64Array.from({ length: spec.batch }, (_, i) => BigInt(i % 3)) },
  };
}

function viltBatch(spec, config) {
  const next = lcg(2);
  const text = 40;
  const rows = spec.images;
  const size = spec.imageSize;
  return {
    input_ids: { dtype: 'int64', shape: [rows, text], data: BigInt64Array.from({ length: rows * text }, (_, i) => BigInt(i % text === 0 ? 101 : 1000 + Math.floor(next() * 20000))) },
    attention_mask: { dtype: 'int64', shape: [rows, text], data: new BigInt64Array(rows * text).fill(1n) },
    pixel_values: { dtype: 'float32', shape: [rows, 3, size, size], data: Float32Array.from({ length: rows * 3 * size * size }, () => next() * 2 - 1) },
    pixel_mask: { dtype: 'uint8', shape: [rows, size, size], data: new Uint8Array(rows * size * size).fill(1) },
    targets: { dtype: 'float32', shape: [rows, config.numAnswers], data: Float32Array.from({ length: rows * config.numAnswers }, () => (next() < 0.001 ? 1 : 0)) },
  };
}

async function worker(spec) {
  const das = await import(path.join(root, 'dist/lib/index.js'));
  das.setNumThreads(spec.threads);
  const config = spec.model === 'roberta' ? das.ROBERTA_BASE : das.VILT_B32;
  const model = await das.Model.create(spec.model, config, { precision: spec.precision, method: spec.method });
  await model.configureOptimizer({ weightDecay: 0.01 });
  const batch = spec.model === 'roberta' ? robertaBatch(spec, config.vocabSize) : viltBatch(spec, config);
  const timed = async (work) => {
    const times = [];
    for (let i = 0; i < spec.warmup + spec.steps; i++) {
      const start = performance.now();
      await work();
      if (i >= spec.warmup) times.push((performance.now() - start) / 1000);
    }
    return median(times);
  };
  const train = await timed(async () => {
    await model.trainStep(batch);
    await model.optimizerStep(1e-4);
  });
  const evaluate = await timed(() => model.evalStep(batch));
  const info = das.runtimeInfo();
  return { train, eval: evaluate, rssMiB: process.resourceUsage().maxRSS / 1024, version: `libtorch ${info.torch.runtimeVersion || info.torch.headerVersion}` };
}

// ---- driver ---------------------------------------------------------------------------------

function peerPython() {
  const candidates = [process.env.DAS_TORCH2_PYTHON, path.join(root, '.venv/torch2-cpu/bin/python')].filter(Boolean);
  for (const python of candidates) {
    if (spawnSync(python, ['-c', 'import torch, transformers, peft'], { stdio: 'ignore' }).status === 0) return python;
  }
  return null;
}

function runJson(command, args, env) {
  const child = spawnSync(command, args, { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 26 });
  if (child.status !== 0) throw new Error(`${path.basename(args[0] ?? command)} failed (exit ${child.status}):\n${child.stderr.slice(-3000)}`);
  return JSON.parse(child.stdout.trim().split('\n').pop());
}

function format(seconds) {
  return seconds === undefined ? '-' : seconds.toFixed(3);
}

async function main() {
  const spec = options(process.argv);
  const workerAt = process.argv.indexOf('--worker');
  if (workerAt >= 0) {
    process.stdout.write(JSON.stringify(await worker(JSON.parse(process.argv[workerAt + 1]))) + '\n');
    return;
  }
  const addons = spec.addons.filter((addon) => {
    if (fs.existsSync(path.resolve(root, addon))) return true;
    console.log(`(skipping ${addon}: not built)`);
    return false;
  });
  const python = spec.peer ? peerPython() : null;
  if (spec.peer && !python) console.log('(no Python with torch 2.x + transformers + peft: run scripts/setup-torch2.sh or set DAS_TORCH2_PYTHON; peer skipped)');
  console.log(
    `fp32 vs bf16, ${spec.threads} threads, median of ${spec.steps} steps after ${spec.warmup} warm-up: roberta-base ${spec.batch} x ${spec.seq} tokens, ` +
      `ViLT-B/32 VQA ${spec.images} images of ${spec.imageSize}^2 + 40 tokens; random weights`,
  );

  // sides x models x precisions, each in a fresh process
  const results = [];
  for (const model of spec.models) {
    for (const precision of spec.precisions) {
      const job = { ...spec, model, precision };
      for (const addon of addons) {
        const result = runJson(process.execPath, [fileURLToPath(import.meta.url), '--worker', JSON.stringify(job)], { DAS_ADDON_PATH: path.resolve(root, addon) });
        results.push({ side: `das-torch ${spec.method} (${result.version})`, model, precision, ...result });
      }
      if (python) {
        const result = runJson(python, [path.join(here, 'precision_peer.py'), JSON.stringify(job)]);
        results.push({ side: `HF+peft LoRA (torch ${result.version})`, model, precision, ...result });
      }
    }
  }

  const sides = [...new Set(results.map((r) => r.side))];
  const find = (side, model, precision) => results.find((r) => r.side === side && r.model === model && r.precision === precision);
  const width = Math.max(...sides.map((s) => s.length)) + 2;
  for (const model of spec.models) {
    for (const phase of ['train', 'eval']) {
      console.log(`\n${model} ${phase === 'train' ? 'adapter training step (forward + backward + AdamW)' : 'eval step (no autograd)'}, seconds`);
      console.log(`  ${'side'.padEnd(width)}${spec.precisions.map((p) => p.padStart(9)).join('')}   bf16 speed-up`);
      for (const side of sides) {
        const times = spec.precisions.map((p) => find(side, model, p)?.[phase]);
        const fp32 = find(side, model, 'fp32')?.[phase];
        const bf16 = find(side, model, 'bf16')?.[phase];
        const speedup = fp32 && bf16 ? `${(fp32 / bf16).toFixed(2)}x` : '-';
        console.log(`  ${side.padEnd(width)}${times.map((t) => format(t).padStart(9)).join('')}   ${speedup.padStart(13)}`);
      }
      const peer = sides.find((s) => s.startsWith('HF'));
      if (peer) {
        for (const side of sides.filter((s) => s !== peer)) {
          const ratios = spec.precisions.map((p) => {
            const ours = find(side, model, p)?.[phase];
            const theirs = find(peer, model, p)?.[phase];
            return ours && theirs ? `${p} ${(ours / theirs).toFixed(2)}` : `${p} -`;
          });
          console.log(`  ratio ${side} / peer: ${ratios.join(', ')}  (<= 1: das-torch no slower)`);
        }
      }
    }
    console.log(`\n${model} peak RSS of the measuring process, MiB`);
    for (const side of sides) {
      console.log(`  ${side.padEnd(width)}${spec.precisions.map((p) => (find(side, model, p)?.rssMiB ?? NaN).toFixed(0).padStart(9)).join('')}`);
    }
  }
  console.log('\n(bf16 speed-up = fp32 seconds / bf16 seconds; target >= 2 on a CPU with AVX512-BF16 or AMX)');
}

await main();
