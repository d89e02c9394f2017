#!/usr/bin/env node
// Builds the addon with cmake-js (the primary build): `npm install` runs this.
// Set DAS_SKIP_NATIVE_BUILD=1 to skip it (for example to build later with a chosen libtorch), and
// DAS_BUILD_DIR to build somewhere else than build/ (a second build against another libtorch; load
// it with DAS_ADDON_PATH=<dir>/Release/das_torch.node).
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { findLibtorch } from './find-libtorch.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

if (process.env.DAS_SKIP_NATIVE_BUILD === '1') {
  console.log('das-torch: DAS_SKIP_NATIVE_BUILD=1, not building the native addon');
  process.exit(0);
}

let libtorch;
try {
  libtorch = findLibtorch();
} catch (err) {
  console.error(err.message);
  process.exit(1);
}
console.log(`das-torch: building against libtorch from ${libtorch.source}`);

// Each translation unit that includes libtorch needs about 1.5 GB to compile.
const memoryJobs = Math.max(1, Math.floor(os.totalmem() / 2 ** 30 / 1.5));
const jobs = Number(process.env.DAS_BUILD_JOBS) || Math.max(1, Math.min(os.availableParallelism(), memoryJobs));

const require = createRequire(import.meta.url);
const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
const args = [cmakeJs, 'compile', '--parallel', String(jobs), `--CDTorch_DIR=${libtorch.cmakeDir}`, `--CDDAS_TORCH_SOURCE=${libtorch.source}`];
if (process.env.DAS_BUILD_DIR) args.push('--out', path.resolve(process.env.DAS_BUILD_DIR));
if (process.env.DAS_DEBUG_BUILD === '1') args.push('--debug');
// ccache (when CMakeLists.txt finds it): paths relative to the checkout, so clones share the cache
const env = { ...process.env, CCACHE_BASEDIR: process.env.CCACHE_BASEDIR ?? root, CCACHE_NOHASHDIR: process.env.CCACHE_NOHASHDIR ?? '1' };
const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit', env });
if (result.status !== 0) {
  console.error(
    '\ndas-torch: the native build failed. Likely causes:\n' +
      '  - missing build tools: sudo apt-get install cmake g++ (or run scripts/setup-debian.sh)\n' +
      '  - a libtorch built with another C++ ABI or compiler (see `node scripts/find-libtorch.mjs --json`)\n' +
      '  - too little memory for parallel compiles: DAS_BUILD_JOBS=1 npm run build:native',
  );
  process.exit(result.status ?? 1);
}
