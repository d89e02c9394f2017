#!/usr/bin/env node
// Builds the addon with cmake-js (the primary build): `npm install` runs this, and so can a user
// whose package manager skipped install scripts: `node node_modules/das-torch/scripts/build-native.mjs`.
// Set DAS_SKIP_NATIVE_BUILD=1 to skip it (for example to build later with a chosen libtorch), and
// DAS_BUILD_DIR to build somewhere else than build/ (a second build against another libtorch; load
// it with DAS_ADDON_PATH=<dir>/Release/das_torch.node).
//
// On a terminal the compiler output is shown as it comes. Otherwise (npm hides a dependency's
// install output until it fails; CI logs) the full output goes to build.log (beside the build
// folder, which cmake-js empties on a first build) and short progress lines go to stderr, and to
// the terminal npm runs in (/dev/tty) when there is one, so a build of several minutes is not
// silent. DAS_BUILD_QUIET=1 keeps them off the terminal.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { formatElapsed, parseBuildProgress } from './build-progress.mjs';
import { findLibtorch } from './find-libtorch.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

if (process.env.DAS_SKIP_NATIVE_BUILD === '1') {
  console.log('das-torch: DAS_SKIP_NATIVE_BUILD=1, not building the native addon');
  process.exit(0);
}

/** Where people see progress: stderr, plus the controlling terminal when npm captures stderr. */
function progressSinks() {
  const sinks = [(line) => process.stderr.write(`${line}\n`)];
  if (!process.stderr.isTTY && !process.env.CI && process.env.DAS_BUILD_QUIET !== '1') {
    try {
      const tty = fs.openSync('/dev/tty', 'w');
      sinks.push((line) => {
        try {
          fs.writeSync(tty, `${line}\n`);
        } catch {
          // the terminal went away: stderr still has it
        }
      });
    } catch {
      // no controlling terminal (CI, a batch job)
    }
  }
  return (line) => sinks.forEach((sink) => sink(line));
}

let libtorch;
try {
  libtorch = findLibtorch();
} catch (err) {
  console.error(err.message);
  process.exit(1);
}

// Each translation unit that includes libtorch needs about 1.5 GB to compile.
const memoryJobs = Math.max(1, Math.floor(os.totalmem() / 2 ** 30 / 1.5));
const jobs = Number(process.env.DAS_BUILD_JOBS) || Math.max(1, Math.min(os.availableParallelism(), memoryJobs));

const require = createRequire(import.meta.url);
const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
const buildDir = path.resolve(root, process.env.DAS_BUILD_DIR || 'build');
const args = [cmakeJs, 'compile', '--parallel', String(jobs), '--out', buildDir, `--CDTorch_DIR=${libtorch.cmakeDir}`, `--CDDAS_TORCH_SOURCE=${libtorch.source}`];
if (process.env.DAS_DEBUG_BUILD === '1') args.push('--debug');
// ccache (when CMakeLists.txt finds it): paths relative to the checkout, so clones share the cache
const env = { ...process.env, CCACHE_BASEDIR: process.env.CCACHE_BASEDIR ?? root, CCACHE_NOHASHDIR: process.env.CCACHE_NOHASHDIR ?? '1' };

const say = progressSinks();
const interactive = Boolean(process.stdout.isTTY);
const logFile = `${buildDir}.log`;
const started = Date.now();
say(
  `das-torch: building the native addon against libtorch from ${libtorch.source}, ${jobs} parallel job(s); ` +
    `a first build takes several minutes${interactive ? '' : ` (full output: ${logFile})`}`,
);

const child = spawn(process.execPath, args, { cwd: root, env, stdio: interactive ? 'inherit' : ['ignore', 'pipe', 'pipe'] });
const tail = [];
if (!interactive) {
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const log = fs.createWriteStream(logFile);
  let lastPercent = -1;
  for (const stream of [child.stdout, child.stderr]) {
    readline.createInterface({ input: stream }).on('line', (line) => {
      log.write(`${line}\n`);
      tail.push(line);
      if (tail.length > 40) tail.shift();
      const progress = parseBuildProgress(line);
      if (progress && (progress.percent !== lastPercent || progress.step.startsWith('linking'))) {
        lastPercent = progress.percent;
        say(`das-torch: [${String(progress.percent).padStart(3)}%] ${progress.step} (${formatElapsed(Date.now() - started)})`);
      }
    });
  }
}

child.on('close', (status) => {
  if (status === 0) {
    say(`das-torch: native addon built in ${formatElapsed(Date.now() - started)}`);
    return;
  }
  if (!interactive) console.error(`\n${tail.join('\n')}\n(the last lines of ${logFile})`);
  console.error(
    '\ndas-torch: the native build failed. Likely causes:\n' +
      '  - missing build tools: sudo apt-get install cmake g++ (or run scripts/setup-debian.sh)\n' +
      '  - a libtorch built with another C++ ABI or compiler (see `node scripts/find-libtorch.mjs --json`)\n' +
      '  - too little memory for parallel compiles: DAS_BUILD_JOBS=1 npm run build:native',
  );
  process.exit(status ?? 1);
});
