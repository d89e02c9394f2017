#!/usr/bin/env node
// Data parallel on this machine's cores: samples/s of the adapter training step (forward +
// backward + gradient all-reduce + AdamW) for ViLT-B/32 (VQA, 40 tokens + a 384x384 image) and
// roberta-base (128 tokens), real sizes with random weights, in three set-ups side by side:
//   1 x 2   one process, 2 threads, the whole batch
//   2 x 1   two processes (ranks, Gloo on loopback), 1 thread each, half the batch each
//   1 x 1   one process, 1 thread, the whole batch
// It prints the ratio 2x1 / 1x2 (target >= 0.9: communication must be cheap next to compute), the
// scaling efficiency 2x1 / (2 x 1x1), and the share of rank 0's step spent in the all-reduce
// (waiting for the other rank included). The set-ups alternate round by round so that drift in the
// machine's load hits all of them alike; each keeps its best round.
//
//   node scripts/bench/data_parallel.mjs [--models vilt,roberta] [--batch 8] [--steps 4] [--rounds 2]
import { spawn } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(import.meta.url);
const arg = (name, fallback) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : fallback;
};
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

// ---- a worker: one rank (or the single process) of one set-up --------------------------------
async function worker(request) {
  const { Model, VILT_B32, ROBERTA_BASE, joinWorld, distEnvFrom } = await import('../../dist/lib/index.js');
  const { model: name, batch, steps } = request;
  const world = await joinWorld({ env: distEnvFrom().env, device: 'cpu', timeoutSeconds: 600 });
  const rows = batch / world.size;
  const random = (n, f) => Array.from({ length: n }, f);
  let model;
  let inputs;
  if (name === 'vilt') {
    model = await Model.create('vilt', { ...VILT_B32, task: 'vqa' }, { seed: 1 });
    const text = 40;
    inputs = {
      input_ids: { dtype: 'int64', shape: [rows, text], data: BigInt64Array.from(random(rows * text, (_, i) => BigInt(i % text === 0 ? 101 : 1000 + (i % 997)))) },
      attention_mask: { dtype: 'int64', shape: [rows, text], data: new BigInt64Array(rows * text).fill(1n) },
      pixel_values: { dtype: 'float32', shape: [rows, 3, 384, 384], data: Float32Array.from(random(rows * 3 * 384 * 384, () => Math.random() * 2 - 1)) },
      targets: { dtype: 'float32', shape: [rows, VILT_B32.numAnswers], data: Float32Array.from(random(rows * VILT_B32.numAnswers, () => (Math.random() < 0.001 ? 1 : 0))) },
    };
  } else {
    model = await Model.create('roberta', ROBERTA_BASE, { seed: 1 });
    const seq = 128;
    inputs = {
      input_ids: { dtype: 'int64', shape: [rows, seq], data: BigInt64Array.from(random(rows * seq, (_, i) => BigInt(i % seq === 0 ? 0 : 3 + (i % 50000)))) },
      attention_mask: { dtype: 'int64', shape: [rows, seq], data: new BigInt64Array(rows * seq).fill(1n) },
      labels: { dtype: 'int64', shape: [rows], data: BigInt64Array.from(random(rows, (_, i) => BigInt(i % 3))) },
    };
  }
  await model.configureOptimizer({ weightDecay: 0.01 });
  await world.attach(model);
  const times = [];
  const reduce = [];
  let bytes = 0;
  for (let i = 0; i < steps + 1; i++) {
    const before = world.stats();
    const start = performance.now();
    await model.trainStep(inputs, { skip: [] });
    await model.optimizerStep(1e-4);
    if (i === 0) continue; // warm-up
    times.push((performance.now() - start) / 1000);
    reduce.push(world.stats().seconds - before.seconds);
    bytes = world.stats().bytes - before.bytes;
  }
  await world.close();
  return { step: median(times), allReduce: median(reduce), bytes };
}

// ---- the driver -----------------------------------------------------------------------------------
async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function runWorker(request, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, '--worker', JSON.stringify(request)], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.once('close', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop())) : reject(new Error(`worker ${JSON.stringify(env)} exited with ${code}`))));
  });
}

async function setup(kind, request) {
  if (kind === '2x1') {
    const port = String(await freePort());
    const ranks = [0, 1].map((rank) => runWorker(request, { RANK: String(rank), LOCAL_RANK: String(rank), WORLD_SIZE: '2', MASTER_ADDR: '127.0.0.1', MASTER_PORT: port, DAS_NUM_THREADS: '1' }));
    return (await Promise.all(ranks))[0];
  }
  return runWorker(request, { DAS_NUM_THREADS: kind === '1x2' ? '2' : '1', RANK: '', WORLD_SIZE: '', LOCAL_RANK: '' });
}

if (process.argv[2] === '--worker') {
  process.stdout.write(`${JSON.stringify(await worker(JSON.parse(process.argv[3])))}\n`);
} else {
  const models = arg('--models', 'vilt,roberta').split(',');
  const batch = Number(arg('--batch', 8));
  const steps = Number(arg('--steps', 4));
  const rounds = Number(arg('--rounds', 2));
  if (batch % 2) throw new Error('--batch must be even (two ranks share it)');
  console.log(`adapter training step, batch ${batch} (2 x ${batch / 2} for 2 ranks), ${steps} timed steps, best of ${rounds} rounds; Gloo on loopback`);
  for (const model of models) {
    const best = {};
    for (let round = 0; round < rounds; round++) {
      for (const kind of ['1x2', '2x1', '1x1']) {
        const result = await setup(kind, { model, batch, steps });
        if (!best[kind] || result.step < best[kind].step) best[kind] = result;
      }
    }
    const rate = (kind) => batch / best[kind].step;
    console.log(`\n${model === 'vilt' ? 'ViLT-B/32 VQA (40 tokens + 384x384 image)' : 'roberta-base (128 tokens)'}`);
    console.log('  set-up   step s   samples/s   all-reduce s   all-reduce share');
    for (const kind of ['1x2', '2x1', '1x1']) {
      const r = best[kind];
      const share = kind === '2x1' ? `${(100 * r.allReduce / r.step).toFixed(1).padStart(8)}%  (${(r.bytes / 2 ** 20).toFixed(1)} MiB reduced per step)` : '';
      console.log(`  ${kind}    ${r.step.toFixed(3).padStart(7)}   ${rate(kind).toFixed(2).padStart(9)}   ${kind === '2x1' ? r.allReduce.toFixed(4).padStart(12) : ''.padStart(12)}   ${share}`);
    }
    console.log(`  2x1 / 1x2 throughput ${(rate('2x1') / rate('1x2')).toFixed(3)}  (target >= 0.9)`);
    console.log(`  scaling efficiency 2x1 / (2 x 1x1) ${(rate('2x1') / (2 * rate('1x1'))).toFixed(3)}`);
  }
}
