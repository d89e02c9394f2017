import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '../support/repo.js';

type Finder = typeof import('../../scripts/find-c10d.mjs');
const finder = (await import(pathToFileURL(path.join(repoRoot, 'scripts/find-c10d.mjs')).href)) as Finder;

const GLOO = '_ZN4c10d16ProcessGroupGlooC1E';
const NCCL = '_ZN4c10d16ProcessGroupNCCLC1E';
const wheel = { prefix: '/venv/site-packages/torch', libDir: '/venv/site-packages/torch/lib', includeDirs: ['/venv/site-packages/torch/include', '/venv/site-packages/torch/include/torch/csrc/api/include'], cuda: true };
const debian = { prefix: '/usr', libDir: '/usr/lib/x86_64-linux-gnu', includeDirs: ['/usr/include', '/usr/include/torch/csrc/api/include'], cuda: false };

function deps(files: string[], symbols: Record<string, string[]>, env: Record<string, string> = {}) {
  return { env, exists: (p: string) => files.includes(p), contains: (file: string, text: string) => (symbols[file] ?? []).includes(text) };
}

describe('scripts/find-c10d.mjs: which distributed backends the addon compiles in', () => {
  it('Debian: Gloo from libtorch and libgloo-dev (a default include folder, not passed again); no NCCL without CUDA', () => {
    const found = finder.findC10d(debian, deps(['/usr/include/gloo/context.h'], { '/usr/lib/x86_64-linux-gnu/libtorch_cpu.so': [GLOO] }));
    assert.deepEqual(found.backends, { gloo: { includeDir: '/usr/include' }, nccl: { missing: 'libtorch is built without CUDA' } });
    assert.deepEqual(found.defines, ['DAS_WITH_GLOO=1']);
    assert.deepEqual(found.includeDirs, []);
  });

  it('a CUDA wheel: nccl.h from the nvidia-nccl wheel beside torch, Gloo headers from GLOO_INCLUDE_DIR', () => {
    const found = finder.findC10d(
      wheel,
      deps(['/venv/site-packages/nvidia/nccl/include/nccl.h', '/opt/gloo/include/gloo/context.h'], { '/venv/site-packages/torch/lib/libtorch_cpu.so': [GLOO], '/venv/site-packages/torch/lib/libtorch_cuda.so': [NCCL] }, { GLOO_INCLUDE_DIR: '/opt/gloo/include' }),
    );
    assert.deepEqual(found.defines, ['DAS_WITH_GLOO=1', 'DAS_WITH_NCCL=1']);
    assert.deepEqual(found.includeDirs, ['/opt/gloo/include', '/venv/site-packages/nvidia/nccl/include']);
  });

  it('says why a backend is left out: headers missing, or libtorch without it', () => {
    const found = finder.findC10d(wheel, deps([], { '/venv/site-packages/torch/lib/libtorch_cpu.so': [GLOO] }));
    assert.match((found.backends.gloo as { missing: string }).missing, /no Gloo headers \(gloo\/context\.h\): install libgloo-dev, or set GLOO_INCLUDE_DIR/);
    assert.match((found.backends.nccl as { missing: string }).missing, /libtorch_cuda\.so does not export ProcessGroupNCCL/);
    assert.deepEqual(found.defines, []);
  });

  it('finds a symbol across the chunks it reads a large file in', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'das-c10d-')), 'lib.so');
    fs.writeFileSync(file, `${'x'.repeat(50)}${GLOO}${'y'.repeat(50)}`);
    try {
      for (const chunk of [7, 16, 64, 1 << 20]) assert.equal(finder.fileContains(file, GLOO, chunk), true, `chunks of ${chunk} bytes`);
      assert.equal(finder.fileContains(file, NCCL, 7), false);
      assert.equal(finder.fileContains(`${file}.missing`, GLOO), false);
    } finally {
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    }
  });
});
