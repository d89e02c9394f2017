#!/usr/bin/env node
// RoBERTa-base (random weights), batch 8 x 128 tokens: the adapter training step (forward +
// backward + AdamW) through the addon vs the same model and step in Python torch, in one run; then
// forward latency with 0, 2 and 4 layers skipped next to the FLOPs ratio.
//
//   node scripts/bench/roberta_step.mjs [--steps 5] [--batch 8] [--seq 128] [--rounds 2]
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Model, ROBERTA_BASE, robertaFlops, runtimeInfo } from '../../dist/lib/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const arg = (name, fallback) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};
const steps = arg('--steps', 5);
const batchSize = arg('--batch', 8);
const seq = arg('--seq', 128);
const forwardRepeats = arg('--forward-repeats', 5);
const rounds = arg('--rounds', 2);
const config = { ...ROBERTA_BASE };
const skipSets = [[], ['En5', 'En10'], ['En2', 'En5', 'En8', 'En10']];
const threads = runtimeInfo().threads.intraOp;
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

function findPython() {
  for (const python of [process.env.DAS_PYTHON, 'python3', '/usr/bin/python3'].filter(Boolean)) {
    if (spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0) return python;
  }
  return null;
}

function randomIds() {
  const data = new BigInt64Array(batchSize * seq);
  for (let i = 0; i < data.length; i++) data[i] = BigInt(3 + Math.floor(Math.random() * (config.vocabSize - 3)));
  return data;
}

async function ours() {
  const model = await Model.create('roberta', config);
  await model.configureOptimizer({ weightDecay: 0.01 });
  const batch = {
    input_ids: { dtype: 'int64', shape: [batchSize, seq], data: randomIds() },
    attention_mask: { dtype: 'int64', shape: [batchSize, seq], data: new BigInt64Array(batchSize * seq).fill(1n) },
    labels: { dtype: 'int64', shape: [batchSize], data: BigInt64Array.from({ length: batchSize }, (_, i) => BigInt(i % 3)) },
  };
  const stepTimes = [];
  for (let i = 0; i < steps + 2; i++) {
    const start = performance.now();
    await model.trainStep(batch);
    await model.optimizerStep(1e-4);
    if (i >= 2) stepTimes.push((performance.now() - start) / 1000);
  }
  const forward = {};
  for (const skip of skipSets) {
    const times = [];
    for (let i = 0; i < forwardRepeats + 1; i++) {
      const start = performance.now();
      await model.evalStep(batch, { skip });
      if (i >= 1) times.push((performance.now() - start) / 1000);
    }
    forward[skip.join(',')] = median(times);
  }
  return { step: median(stepTimes), forward };
}

function theirs(python) {
  const request = JSON.stringify({ config, batch: batchSize, seq, steps, threads, skipSets, forwardRepeats });
  const child = spawnSync(python, [path.join(here, 'roberta_step_torch.py')], { input: request, encoding: 'utf8', maxBuffer: 1 << 24 });
  if (child.status !== 0) throw new Error(`roberta_step_torch.py failed: ${child.stderr}`);
  return JSON.parse(child.stdout);
}

// Keeps the faster of two measurements of the same thing, field by field.
function best(a, b) {
  if (!a) return b;
  const forward = Object.fromEntries(Object.keys(a.forward).map((k) => [k, Math.min(a.forward[k], b.forward[k])]));
  return { ...a, step: Math.min(a.step, b.step), forward };
}

const python = findPython();
console.log(`roberta-base (random weights), batch ${batchSize} x ${seq} tokens, ${threads} threads, ${steps} timed steps, ${rounds} rounds`);
if (!python) console.log('no Python with torch found (install python3-torch): addon only');
// Alternate the two sides round by round so that drift in machine load hits both alike.
let mine = null;
let reference = null;
for (let round = 0; round < rounds; round++) {
  mine = best(mine, await ours());
  if (python) reference = best(reference, theirs(python));
}

console.log('\nadapter training step (forward + backward + AdamW), median seconds (best round)');
console.log(`  das-torch    ${mine.step.toFixed(3)}`);
if (reference) {
  console.log(`  python torch ${reference.step.toFixed(3)}  (torch ${reference.torch})`);
  console.log(`  ratio das/torch ${(mine.step / reference.step).toFixed(3)}  (<= 1 means ours is no slower)`);
}

console.log('\nforward latency vs FLOPs (eval, no autograd)');
const base = mine.forward[''];
const unskippedFlops = robertaFlops(config, { tokens: seq }).flops;
console.log('  skipped                  seconds  latency saved  FLOPs saved  saved ratio' + (reference ? '  torch seconds' : ''));
for (const skip of skipSets) {
  const key = skip.join(',');
  const flops = robertaFlops(config, { tokens: seq, skip }).flops;
  const latencySaved = 1 - mine.forward[key] / base;
  const flopsSaved = 1 - flops / unskippedFlops;
  const ratio = skip.length ? (latencySaved / flopsSaved).toFixed(2) : '-';
  console.log(
    `  ${(key || '(none)').padEnd(22)} ${mine.forward[key].toFixed(3).padStart(8)}  ${(100 * latencySaved).toFixed(1).padStart(12)}%  ${(100 * flopsSaved).toFixed(1).padStart(10)}%  ${ratio.padStart(11)}` +
      (reference ? `  ${reference.forward[key].toFixed(3).padStart(13)}` : ''),
  );
}
console.log('(both savings relative to the same model with nothing skipped; saved ratio = latency saved / FLOPs saved, target >= 0.9)');
