import assert from 'node:assert/strict';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '../support/repo.js';

type Finder = typeof import('../../scripts/find-libtorch.mjs');
const finder = (await import(pathToFileURL(path.join(repoRoot, 'scripts/find-libtorch.mjs')).href)) as Finder;

const ABI1 = 'set(TORCH_CXX_FLAGS "-D_GLIBCXX_USE_CXX11_ABI=1")';
const ABI0 = 'set(TORCH_CXX_FLAGS "-D_GLIBCXX_USE_CXX11_ABI=0")';

/** A fake libtorch install laid out the way `prefix/share/cmake/Torch` installs are. */
function unpackedLibtorch(prefix: string, config = ABI0, extraLibs: string[] = []): Map<string, string> {
  const files = new Map<string, string>();
  files.set(`${prefix}/share/cmake/Torch/TorchConfig.cmake`, config);
  files.set(`${prefix}/lib/libtorch.so`, '');
  for (const lib of extraLibs) files.set(`${prefix}/lib/${lib}`, '');
  files.set(`${prefix}/include/torch/csrc/api/include/torch/torch.h`, '');
  return files;
}

function debianLibtorch(): Map<string, string> {
  return new Map([
    ['/usr/lib/x86_64-linux-gnu/cmake/Torch', ''],
    ['/usr/lib/x86_64-linux-gnu/cmake/Torch/TorchConfig.cmake', ABI1],
    ['/usr/lib/x86_64-linux-gnu/libtorch.so', ''],
    ['/usr/include/torch/csrc/api/include/torch/torch.h', ''],
  ]);
}

function deps(files: Map<string, string>, env: Record<string, string> = {}, python: Record<string, object | Error> = {}) {
  return {
    env,
    exists: (p: string) => files.has(path.normalize(p)),
    readFile: (p: string) => files.get(path.normalize(p)) ?? '',
    run: (file: string) => {
      const answer = python[file];
      if (answer === undefined) throw Object.assign(new Error(`spawn ${file} ENOENT`), { code: 'ENOENT' });
      if (answer instanceof Error) throw answer;
      return JSON.stringify(answer);
    },
  };
}

describe('find-libtorch', () => {
  it('prefers LIBTORCH over everything else', () => {
    const files = new Map([...unpackedLibtorch('/opt/libtorch'), ...debianLibtorch()]);
    const found = finder.findLibtorch(deps(files, { LIBTORCH: '/opt/libtorch', Torch_DIR: '/usr/lib/x86_64-linux-gnu/cmake/Torch' }));
    assert.equal(found.source, 'LIBTORCH');
    assert.equal(found.libDir, '/opt/libtorch/lib');
    assert.deepEqual(found.includeDirs, ['/opt/libtorch/include', '/opt/libtorch/include/torch/csrc/api/include']);
    assert.equal(found.cxx11Abi, false);
  });

  it('takes Torch_DIR next, and the system package reads as ABI 1', () => {
    const found = finder.findLibtorch(deps(debianLibtorch(), { Torch_DIR: '/usr/lib/x86_64-linux-gnu/cmake/Torch' }));
    assert.equal(found.source, 'Torch_DIR');
    assert.equal(found.libDir, '/usr/lib/x86_64-linux-gnu');
    assert.equal(found.cxx11Abi, true);
  });

  it('fails loudly when an explicit LIBTORCH is wrong instead of silently using another libtorch', () => {
    assert.throws(
      () => finder.findLibtorch(deps(debianLibtorch(), { LIBTORCH: '/nowhere' })),
      (err: Error & { code?: string }) => err.code === 'DAS_LIBTORCH_NOT_FOUND' && /LIBTORCH: no TorchConfig\.cmake in \/nowhere/.test(err.message),
    );
  });

  it('uses a Python torch install before the system package, with its CUDA libraries', () => {
    const files = new Map([...unpackedLibtorch('/venv/torch', ABI0, ['libtorch_cuda.so']), ...debianLibtorch()]);
    const python = { python3: { version: '2.4.0+cu121', cmakePrefixPath: '/venv/torch/share/cmake', cuda: '12.1', cxx11Abi: false } };
    const found = finder.findLibtorch(deps(files, {}, python));
    assert.match(found.source, /^python \(python3, torch 2\.4\.0\+cu121\)$/);
    assert.equal(found.cuda, true);
    assert.deepEqual(found.libraries, ['torch', 'torch_cpu', 'c10', 'torch_cuda', 'c10_cuda']);
  });

  it("falls through a Python torch without CMake files (Debian's python3-torch) to the system package", () => {
    const python = { python3: new Error('No module named torch'), '/usr/bin/python3': { version: '1.13.0a0', cmakePrefixPath: '/usr/lib/python3/dist-packages/torch/share/cmake', cuda: null, cxx11Abi: true } };
    const found = finder.findLibtorch(deps(debianLibtorch(), {}, python));
    assert.equal(found.source, 'system (/usr/lib/x86_64-linux-gnu/cmake/Torch)');
    assert.equal(found.tried.length, 2);
    assert.match(found.tried[1]!.why, /no TorchConfig\.cmake in \/usr\/lib\/python3\/dist-packages\/torch\/share\/cmake\/Torch/);
  });

  it('asks DAS_PYTHON first when it is set', () => {
    const files = unpackedLibtorch('/conda/torch');
    const python = { '/conda/bin/python': { version: '2.1.0', cmakePrefixPath: '/conda/torch/share/cmake', cuda: null, cxx11Abi: true } };
    const found = finder.findLibtorch(deps(files, { DAS_PYTHON: '/conda/bin/python' }, python));
    assert.match(found.source, /\/conda\/bin\/python/);
    assert.equal(found.cxx11Abi, false, 'the ABI flag in TorchConfig.cmake wins over Python’s answer');
  });

  it('lists every place it tried, and the remedies, when nothing is found', () => {
    assert.throws(
      () => finder.findLibtorch(deps(new Map())),
      (err: Error & { tried?: unknown[] }) => {
        assert.match(err.message, /python \(python3\): not installed/);
        assert.match(err.message, /system libtorch-dev: none of/);
        assert.match(err.message, /scripts\/setup-debian\.sh/);
        assert.match(err.message, /LIBTORCH=/);
        return true;
      },
    );
  });

  it('rejects a TorchConfig.cmake without headers or libraries beside it, saying which', () => {
    const noHeaders = new Map([['/x/share/cmake/Torch/TorchConfig.cmake', ABI1], ['/x/lib/libtorch.so', '']]);
    const result = finder.describeCmakeDir('/x/share/cmake/Torch', (p) => noHeaders.has(p), (p) => noHeaders.get(p) ?? '');
    assert.equal(result.ok, false);
    assert.match((result as { why: string }).why, /no C\+\+ headers/);
  });
});
