#!/usr/bin/env node
// GEMM through the addon vs the same products through Python's torch (same libtorch), side by side
// in one run. Prints GFLOP/s (2 n^3 / median time) of each and their ratio.
//
//   node scripts/bench/gemm.mjs [--sizes 256,512,1024,2048] [--rounds 3]
// Python: DAS_PYTHON, else the first of python3, /usr/bin/python3 that imports torch.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { matmul, runtimeInfo, timeGemm } from '../../dist/lib/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const arg = (name, fallback) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : fallback;
};
const sizes = arg('--sizes', '256,512,1024,2048').split(',').map(Number);
const rounds = Number(arg('--rounds', '3'));
// about 0.5 s of work per size and side in each round
const iterations = Object.fromEntries(sizes.map((n) => [n, Math.max(10, Math.min(200, Math.round(0.5 / ((2 * n ** 3) / 120e9))))]));
const warmup = 3;
const info = runtimeInfo();
const threads = info.threads.intraOp;

function findPython() {
  for (const python of [process.env.DAS_PYTHON, 'python3', '/usr/bin/python3'].filter(Boolean)) {
    const probe = spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' });
    if (probe.status === 0) return python;
  }
  return null;
}

function runPython(python) {
  const request = JSON.stringify({ sizes, iterations, warmup, threads });
  const child = spawnSync(python, [path.join(here, 'gemm_torch.py')], { input: request, encoding: 'utf8', maxBuffer: 1 << 24 });
  if (child.status !== 0) throw new Error(`gemm_torch.py failed: ${child.stderr}`);
  return JSON.parse(child.stdout);
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const gflops = (n, seconds) => (2 * n ** 3) / seconds / 1e9;

const python = findPython();
console.log(`libtorch ${info.torch.runtimeVersion}, BLAS ${info.blas.vendor} (${info.blas.library}), ${threads} threads`);
console.log(python ? `reference: ${python} (torch)` : 'reference: no Python with torch found (install python3-torch); addon only');

// Alternate the two sides round by round so drift in machine load hits both alike; keep the best
// round's median for each side.
const best = { addon: {}, transfer: {}, torch: {} };
const keep = (side, n, value) => (best[side][n] = Math.max(best[side][n] ?? 0, value));
let torchVersion = null;
for (let round = 0; round < rounds; round++) {
  for (const n of sizes) {
    const timing = await timeGemm({ n, iterations: iterations[n], warmup });
    keep('addon', n, gflops(n, median(timing.seconds)));
    // the same product called from JS: host arrays in, result copied back out
    const a = { dtype: 'float32', shape: [n, n], data: Float32Array.from({ length: n * n }, () => Math.random()) };
    const seconds = [];
    for (let i = 0; i < Math.min(iterations[n], 20); i++) {
      const start = process.hrtime.bigint();
      await matmul(a, a);
      seconds.push(Number(process.hrtime.bigint() - start) / 1e9);
    }
    keep('transfer', n, gflops(n, median(seconds)));
  }
  if (python) {
    const reference = runPython(python);
    torchVersion = reference.torch;
    for (const { n, seconds } of reference.results) keep('torch', n, gflops(n, median(seconds)));
  }
}

const rows = sizes.map((n) => {
  const ratio = python ? (best.addon[n] / best.torch[n]).toFixed(3) : '-';
  return [String(n), best.addon[n].toFixed(1), best.transfer[n].toFixed(1), python ? best.torch[n].toFixed(1) : '-', ratio];
});
const header = ['n', 'addon GFLOP/s', 'addon+JS copies', `python torch ${torchVersion ?? ''}`.trim(), 'addon/torch'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (cells) => cells.map((c, i) => c.padStart(widths[i])).join('  ');
console.log(line(header));
for (const row of rows) console.log(line(row));
console.log(`(best of ${rounds} rounds, median of ${Object.values(iterations).join('/')} products; 'addon+JS copies' includes host arrays in and out)`);
