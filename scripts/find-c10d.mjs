#!/usr/bin/env node
// Which of libtorch's distributed backends the addon compiles in. A backend needs two things:
// libtorch must export it (Debian's libtorch and PyTorch's wheels export Gloo; CUDA builds also
// NCCL), and its headers must be here, because c10d's own headers include them while libtorch
// packages do not ship them: Gloo's come from libgloo-dev (or GLOO_INCLUDE_DIR), nccl.h from the
// nvidia-nccl wheel beside torch, the CUDA toolkit or NCCL_INCLUDE_DIR / NCCL_ROOT.
// Both build files call it: CMakeLists.txt (--json --torch-dir <Torch_DIR>), binding.gyp (--defines, --include-dirs).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeCmakeDir, findLibtorch } from './find-libtorch.mjs';

// Mangled prefixes of the backends' constructors, as the libraries' dynamic symbol tables spell them.
const SYMBOLS = { gloo: '_ZN4c10d16ProcessGroupGlooC1E', nccl: '_ZN4c10d16ProcessGroupNCCLC1E' };
// Folders the compiler searches anyway: passing them again with -I would upset #include_next.
const DEFAULT_INCLUDE = new Set(['/usr/include', '/usr/local/include']);

/** Whether `file` contains `text` (read in chunks: libtorch_cuda.so is over a gigabyte). */
export function fileContains(file, text, chunkBytes = 64 << 20) {
  let fd;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return false;
  }
  try {
    const needle = Buffer.from(text);
    const chunk = Buffer.alloc(chunkBytes);
    let carry = Buffer.alloc(0);
    for (;;) {
      const read = fs.readSync(fd, chunk, 0, chunk.length, null);
      if (read === 0) return false;
      const window = Buffer.concat([carry, chunk.subarray(0, read)]);
      if (window.includes(needle)) return true;
      carry = window.subarray(Math.max(0, window.length - needle.length + 1));
    }
  } finally {
    fs.closeSync(fd);
  }
}

function firstWith(dirs, header, exists) {
  return dirs.filter(Boolean).map((dir) => path.resolve(dir)).find((dir) => exists(path.join(dir, header))) ?? null;
}

/**
 * { backends: { gloo, nccl } (each { includeDir } or { missing: why }), defines, includeDirs }.
 * `deps` lets tests fake the file system and environment.
 */
export function findC10d(libtorch, deps = {}) {
  const env = deps.env ?? process.env;
  const exists = deps.exists ?? fs.existsSync;
  const contains = deps.contains ?? fileContains;
  const library = (name) => path.join(libtorch.libDir, `lib${name}.so`);
  const includeRoot = libtorch.includeDirs[0];

  const gloo = (() => {
    if (!contains(library('torch_cpu'), SYMBOLS.gloo)) return { missing: `${library('torch_cpu')} does not export ProcessGroupGloo` };
    const dir = firstWith([env.GLOO_INCLUDE_DIR, includeRoot, '/usr/include', '/usr/local/include'], 'gloo/context.h', exists);
    return dir ? { includeDir: dir } : { missing: 'no Gloo headers (gloo/context.h): install libgloo-dev, or set GLOO_INCLUDE_DIR' };
  })();

  const nccl = (() => {
    if (!libtorch.cuda) return { missing: 'libtorch is built without CUDA' };
    if (!contains(library('torch_cuda'), SYMBOLS.nccl)) return { missing: `${library('torch_cuda')} does not export ProcessGroupNCCL` };
    const site = path.dirname(libtorch.prefix); // a wheel: <site-packages>/torch
    const dir = firstWith(
      [env.NCCL_INCLUDE_DIR, env.NCCL_ROOT && path.join(env.NCCL_ROOT, 'include'), path.join(site, 'nvidia/nccl/include'), env.CUDA_HOME && path.join(env.CUDA_HOME, 'include'), includeRoot, '/usr/local/cuda/include', '/usr/include', '/usr/local/include'],
      'nccl.h',
      exists,
    );
    return dir ? { includeDir: dir } : { missing: 'no nccl.h: pip install nvidia-nccl-cu12 (or the wheel matching your CUDA), or set NCCL_INCLUDE_DIR' };
  })();

  const backends = { gloo, nccl };
  const found = Object.entries(backends).filter(([, b]) => b.includeDir);
  return {
    backends,
    defines: found.map(([name]) => `DAS_WITH_${name.toUpperCase()}=1`),
    includeDirs: [...new Set(found.map(([, b]) => b.includeDir).filter((dir) => !DEFAULT_INCLUDE.has(dir)))],
  };
}

function main(argv) {
  const torchDir = argv.includes('--torch-dir') ? argv[argv.indexOf('--torch-dir') + 1] : undefined;
  let libtorch;
  try {
    libtorch = torchDir ? describeCmakeDir(torchDir) : findLibtorch();
    if (libtorch.ok === false) throw new Error(libtorch.why);
  } catch (err) {
    console.error(err.message);
    process.exit(1);
  }
  const found = findC10d(libtorch);
  const what = argv.find((a) => a.startsWith('--') && a !== '--torch-dir') ?? '--json';
  const out = {
    '--json': () => JSON.stringify(found, null, 2),
    // node-gyp reads space-separated lists from <!@(...) expansions
    '--defines': () => found.defines.join(' '),
    '--include-dirs': () => found.includeDirs.join(' '),
  }[what];
  if (!out) {
    console.error(`find-c10d: unknown option ${what}; use --json, --defines or --include-dirs (optionally with --torch-dir <dir>)`);
    process.exit(2);
  }
  process.stdout.write(out() + '\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === fs.realpathSync(process.argv[1])) {
  main(process.argv.slice(2));
}
