#!/usr/bin/env node
// Finds a libtorch to build against, in the order the design fixes:
//   1. LIBTORCH (an unpacked libtorch root) or Torch_DIR (the folder holding TorchConfig.cmake)
//   2. a Python `torch` install (how CUDA machines usually have it)
//   3. the system package (Debian/Ubuntu `libtorch-dev`)
// Plain JavaScript on purpose: it runs from `npm install` before any TypeScript is compiled,
// and both build files (CMakeLists.txt, binding.gyp) call it.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SYSTEM_CMAKE_DIRS = [
  '/usr/lib/x86_64-linux-gnu/cmake/Torch',
  '/usr/lib/aarch64-linux-gnu/cmake/Torch',
  '/usr/lib64/cmake/Torch',
  '/usr/local/share/cmake/Torch',
  '/usr/share/cmake/Torch',
];

const PYTHON_PROBE = [
  'import json, torch, torch.utils',
  'print(json.dumps({"version": torch.__version__,',
  '  "cmakePrefixPath": torch.utils.cmake_prefix_path,',
  '  "cuda": torch.version.cuda,',
  '  "cxx11Abi": bool(torch._C._GLIBCXX_USE_CXX11_ABI)}))',
].join('\n');

export class LibtorchNotFoundError extends Error {
  constructor(tried) {
    const lines = tried.map((t) => `  - ${t.where}: ${t.why}`);
    super(
      'das-torch: no usable libtorch was found.\n' +
        'Tried, in order:\n' +
        lines.join('\n') +
        '\n' +
        'To fix it, do one of:\n' +
        '  - Debian/Ubuntu (CPU): sudo scripts/setup-debian.sh   (installs libtorch-dev and OpenBLAS)\n' +
        '  - set LIBTORCH=/path/to/libtorch (an unpacked libtorch archive)\n' +
        '  - set Torch_DIR=/path/to/share/cmake/Torch (the folder holding TorchConfig.cmake)\n' +
        '  - install PyTorch for Python (pip install torch), or point DAS_PYTHON at the python that has it',
    );
    this.name = 'LibtorchNotFoundError';
    this.code = 'DAS_LIBTORCH_NOT_FOUND';
    this.tried = tried;
  }
}

/** Reads what the build needs from a folder holding TorchConfig.cmake. */
export function describeCmakeDir(cmakeDir, exists = fs.existsSync, readFile = fs.readFileSync) {
  const configPath = path.join(cmakeDir, 'TorchConfig.cmake');
  if (!exists(configPath)) return { ok: false, why: `no TorchConfig.cmake in ${cmakeDir}` };
  const configText = String(readFile(configPath));
  // <prefix>/share/cmake/Torch (libtorch archives, pip wheels) or <prefix>/lib/<triplet>/cmake/Torch (Debian)
  const prefixes = [path.resolve(cmakeDir, '../../..'), path.resolve(cmakeDir, '../../../..')];
  const apiHeader = (prefix) => path.join(prefix, 'include/torch/csrc/api/include/torch/torch.h');
  const prefix = prefixes.find((candidate) => exists(apiHeader(candidate)));
  if (!prefix) {
    return { ok: false, why: `TorchConfig.cmake found in ${cmakeDir} but no C++ headers (expected ${prefixes.map(apiHeader).join(' or ')})` };
  }
  const libDirCandidates = [path.join(prefix, 'lib'), path.resolve(cmakeDir, '../..')];
  const libDir = libDirCandidates.find((dir) => exists(path.join(dir, 'libtorch.so')) || exists(path.join(dir, 'libtorch.dylib')));
  if (!libDir) {
    return { ok: false, why: `TorchConfig.cmake found in ${cmakeDir} but no libtorch.so in ${libDirCandidates.join(' or ')}` };
  }
  const includeRoot = path.join(prefix, 'include');
  const apiInclude = path.join(includeRoot, 'torch/csrc/api/include');
  const abiMatch = /-D_GLIBCXX_USE_CXX11_ABI=([01])/.exec(configText);
  const cuda = exists(path.join(libDir, 'libtorch_cuda.so'));
  const libraries = ['torch', 'torch_cpu', 'c10', ...(cuda ? ['torch_cuda', 'c10_cuda'] : [])];
  return {
    ok: true,
    cmakeDir,
    prefix,
    libDir,
    includeDirs: [includeRoot, apiInclude],
    cxx11Abi: abiMatch ? abiMatch[1] === '1' : null,
    cuda,
    libraries,
  };
}

function probePython(python, run) {
  try {
    const out = run(python, ['-c', PYTHON_PROBE], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60000 });
    return { ok: true, info: JSON.parse(out.trim().split('\n').pop()) };
  } catch (err) {
    const stderr = String(err.stderr ?? '').trim().split('\n').pop() || err.message;
    return { ok: false, why: err.code === 'ENOENT' ? 'not installed' : `cannot import torch (${stderr})` };
  }
}

/**
 * Returns the first usable libtorch, or throws LibtorchNotFoundError listing every place tried.
 * `deps` exists so tests can fake the file system, environment and Python.
 */
export function findLibtorch(deps = {}) {
  const env = deps.env ?? process.env;
  const exists = deps.exists ?? fs.existsSync;
  const readFile = deps.readFile ?? fs.readFileSync;
  const run = deps.run ?? execFileSync;
  const tried = [];
  const accept = (source, cmakeDir, extra = {}) => {
    const { ok, why, ...found } = describeCmakeDir(cmakeDir, exists, readFile);
    if (ok) return { source, ...found, ...extra, tried };
    tried.push({ where: source, why });
    return null;
  };

  // An explicit choice that does not work is an error, not a reason to quietly build against another libtorch.
  if (env.LIBTORCH) {
    const hit = accept('LIBTORCH', path.join(env.LIBTORCH, 'share/cmake/Torch'));
    if (hit) return hit;
    throw new LibtorchNotFoundError(tried);
  }
  if (env.Torch_DIR) {
    const hit = accept('Torch_DIR', env.Torch_DIR);
    if (hit) return hit;
    throw new LibtorchNotFoundError(tried);
  }

  const pythons = [...new Set([env.DAS_PYTHON, 'python3', '/usr/bin/python3'].filter(Boolean))];
  for (const python of pythons) {
    const probe = probePython(python, run);
    if (!probe.ok) {
      tried.push({ where: `python (${python})`, why: probe.why });
      continue;
    }
    const { version, cmakePrefixPath, cuda, cxx11Abi } = probe.info;
    const hit = accept(`python (${python}, torch ${version})`, path.join(cmakePrefixPath, 'Torch'), { pythonCuda: cuda });
    if (hit) return { ...hit, cxx11Abi: hit.cxx11Abi ?? cxx11Abi };
  }

  for (const dir of SYSTEM_CMAKE_DIRS) {
    if (!exists(dir)) continue;
    const hit = accept(`system (${dir})`, dir);
    if (hit) return hit;
  }
  if (!tried.some((t) => t.where.startsWith('system'))) {
    tried.push({ where: 'system libtorch-dev', why: `none of ${SYSTEM_CMAKE_DIRS.join(', ')} exists` });
  }
  throw new LibtorchNotFoundError(tried);
}

function main(argv) {
  let found;
  try {
    found = findLibtorch();
  } catch (err) {
    console.error(err.message);
    process.exit(1);
  }
  const [what] = argv;
  const out = {
    '--json': () => JSON.stringify(found, null, 2),
    '--cmake-dir': () => found.cmakeDir,
    // node-gyp reads space-separated lists from <!@(...) expansions
    '--include-dirs': () => found.includeDirs.join(' '),
    '--lib-dir': () => found.libDir,
    '--libs': () => found.libraries.map((l) => `-l${l}`).join(' '),
    '--defines': () => (found.cxx11Abi === null ? '' : `_GLIBCXX_USE_CXX11_ABI=${found.cxx11Abi ? 1 : 0}`),
    '--source': () => found.source,
    // C string defines for binding.gyp, one per <!(...) expansion so that spaces survive
    '--source-define': () => `DAS_TORCH_SOURCE=${JSON.stringify(found.source)}`,
    '--cmake-dir-define': () => `DAS_TORCH_CMAKE_DIR=${JSON.stringify(found.cmakeDir)}`,
  }[what ?? '--json'];
  if (!out) {
    console.error(`find-libtorch: unknown option ${what}; use --json, --cmake-dir, --include-dirs, --lib-dir, --libs, --defines or --source`);
    process.exit(2);
  }
  process.stdout.write(out() + '\n');
}

// realpath: binding.gyp runs this through a symlinked folder (scripts/build-gyp.mjs)
if (process.argv[1] && fileURLToPath(import.meta.url) === fs.realpathSync(process.argv[1])) {
  main(process.argv.slice(2));
}
