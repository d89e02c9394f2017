import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import { cpuBudget } from '../../lib/util/cpu-budget.js';
import { lastJsonLine, runCli } from '../support/repo.js';

/** Debian's netlib reference BLAS (package libblas3, installed by scripts/setup-debian.sh). */
const REFERENCE_BLAS_DIRS = ['/usr/lib/x86_64-linux-gnu/blas', '/usr/lib/aarch64-linux-gnu/blas'];

function fieldTypes(value: unknown): unknown {
  if (Array.isArray(value)) return 'array';
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, fieldTypes(inner)]));
  }
  return typeof value;
}

describe('das doctor', () => {
  it('--json prints every field, with real values, on the last line', () => {
    const result = runCli(['doctor', '--json']);
    assert.equal(result.status, 0, result.stderr);
    const report = lastJsonLine(result.stdout);
    assert.deepEqual(fieldTypes(report), {
      package: { name: 'string', version: 'string' },
      node: { version: 'string', napiVersion: 'number', platform: 'string', arch: 'string' },
      torch: { version: 'string', headerVersion: 'string', library: 'string', foundVia: 'string', cmakeDir: 'string', mkldnn: 'boolean', parallelBackend: 'string', fusedAttention: 'boolean' },
      cuda: {
        built: 'boolean',
        library: 'string',
        available: 'boolean',
        deviceCount: 'number',
        runtimeVersion: 'string',
        cudnnVersion: 'string',
        ncclVersion: 'string',
        deviceDetails: 'boolean',
        devices: 'array',
      },
      bf16: { cpuFlags: 'array', cpuGemmGflops: 'number', cpuSpeedup: 'number', cpuFast: 'boolean', gpuFast: 'object' },
      distributed: { backends: 'array' },
      blas: {
        vendor: 'string',
        library: 'string',
        detail: 'string',
        threading: 'string',
        threads: 'number',
        builtWith: 'string',
        reference: 'boolean',
        gemmGflops: 'number',
        gemmSize: 'number',
      },
      threads: { intraOp: 'number', interOp: 'number', available: 'number', requested: 'object', source: 'string' },
      build: { system: 'string', compiler: 'string', type: 'string', cxx11Abi: 'boolean', napiVersion: 'number', addonPath: 'string' },
      warnings: 'array',
    });
    const r = report as any;
    assert.match(r.torch.version, /^\d+\.\d+/);
    assert.ok(fs.existsSync(r.torch.library), `libtorch path ${r.torch.library} exists`);
    assert.ok(['openblas', 'mkl', 'blis', 'flexiblas', 'bundled', 'reference', 'unknown'].includes(r.blas.vendor));
    assert.ok(r.blas.gemmGflops > 0);
    assert.ok(r.distributed.backends.includes('gloo'), 'Gloo is built in (libgloo-dev, installed by scripts/setup-debian.sh)');
    assert.equal(r.threads.intraOp, cpuBudget().threads, 'threads default to the CPU budget');
    assert.ok(r.threads.available >= 1 && r.threads.available <= os.availableParallelism());
    assert.ok(['cmake-js', 'node-gyp'].includes(r.build.system));
    assert.equal(r.build.type, 'release');
    // fused attention exactly where libtorch has scaled_dot_product_attention
    assert.equal(r.torch.fusedAttention, Number(r.torch.headerVersion.split('.')[0]) >= 2);
    if (!r.cuda.built) assert.deepEqual([r.cuda.library, r.cuda.runtimeVersion, r.cuda.ncclVersion], ['', '', '']);
    assert.ok(r.bf16.cpuGemmGflops > 0 && r.bf16.cpuSpeedup > 0);
    const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
    assert.equal(r.bf16.cpuFast, /\b(avx512_bf16|amx_bf16)\b/.test(cpuinfo), 'bf16 is called fast exactly when the CPU has bf16 instructions');
  });

  it('says whether bf16 is fast here, with the measured GEMM ratio', () => {
    const human = runCli(['doctor']);
    assert.equal(human.status, 0, human.stderr);
    assert.match(human.stdout, /^bf16 +(fast on this CPU \((avx512_bf16|amx_bf16)[^)]*\)|slow on this CPU [^:]*): GEMM [\d.]+ GFLOP\/s, [\d.]+x float32/m);
    assert.match(human.stdout, /^ +attention +(scaled_dot_product_attention|explicit)/m);
  });

  it('DAS_NUM_THREADS, else OMP_NUM_THREADS, else SLURM_CPUS_PER_TASK sets the intra-op thread count', () => {
    const clean = { DAS_NUM_THREADS: '', OMP_NUM_THREADS: '', SLURM_CPUS_PER_TASK: '' };
    for (const [env, source] of [
      [{ DAS_NUM_THREADS: '1', OMP_NUM_THREADS: '2' }, 'DAS_NUM_THREADS'],
      [{ OMP_NUM_THREADS: '1', SLURM_CPUS_PER_TASK: '2' }, 'OMP_NUM_THREADS'],
      [{ SLURM_CPUS_PER_TASK: '1' }, 'SLURM_CPUS_PER_TASK'],
    ] as const) {
      const report = lastJsonLine(runCli(['doctor', '--json'], { ...clean, ...env }).stdout) as any;
      assert.equal(report.threads.intraOp, 1, source);
      assert.equal(report.threads.source, source);
    }
  });

  it('warns when libtorch runs more threads than the CPUs this process may use', () => {
    const usable = cpuBudget().usable;
    const report = lastJsonLine(runCli(['doctor', '--json'], { DAS_NUM_THREADS: String(usable + 3) }).stdout) as any;
    assert.equal(report.threads.intraOp, usable + 3);
    assert.match(report.warnings.join('\n'), new RegExp(`libtorch runs ${usable + 3} intra-op threads but this process may use only ${usable} CPU\\(s\\).*DAS_NUM_THREADS=${usable}`));
    const human = runCli(['doctor'], { DAS_NUM_THREADS: String(usable + 3) });
    assert.match(human.stdout, /warning: libtorch runs/);
  });

  it('detects the reference BLAS when it is the one loaded, and warns loudly', () => {
    const dir = REFERENCE_BLAS_DIRS.find((d) => fs.existsSync(`${d}/libblas.so.3`));
    assert.ok(dir, 'the reference BLAS (Debian package libblas3) must be installed for this test: run scripts/setup-debian.sh');
    // Put the reference libblas.so.3 ahead of the system's choice, as a machine without OpenBLAS has it.
    const env = { LD_LIBRARY_PATH: dir };
    const report = lastJsonLine(runCli(['doctor', '--json'], env).stdout) as any;
    assert.equal(report.blas.vendor, 'reference');
    assert.equal(report.blas.reference, true);
    assert.match(report.blas.library, /\/blas\/libblas\.so/);
    assert.match(report.warnings.join('\n'), /REFERENCE BLAS IS LIVE/);
    const human = runCli(['doctor'], env);
    assert.match(human.stdout, /!!! WARNING: REFERENCE BLAS IS LIVE/);
    assert.match(human.stdout, /libopenblas0-openmp/);
  });

  it('identifies an optimised BLAS by its own entry points when one is installed', () => {
    const report = lastJsonLine(runCli(['doctor', '--json']).stdout) as any;
    const openblasInstalled = fs.existsSync('/usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3');
    if (openblasInstalled && /openblas/.test(fs.realpathSync('/usr/lib/x86_64-linux-gnu/libblas.so.3'))) {
      assert.equal(report.blas.vendor, 'openblas');
      assert.match(report.blas.detail, /OpenBLAS/);
      assert.deepEqual(report.warnings.filter((w: string) => /BLAS/.test(w)), []);
    } else {
      assert.notEqual(report.blas.vendor, 'unknown');
    }
  });

  it('exits 2 with a clear message on an unknown command or flag', () => {
    const unknownCommand = runCli(['doctr']);
    assert.equal(unknownCommand.status, 2);
    assert.match(unknownCommand.stderr, /unknown command 'doctr'/);
    const unknownFlag = runCli(['doctor', '--jsn']);
    assert.equal(unknownFlag.status, 2);
    assert.match(unknownFlag.stderr, /unknown option '--jsn'/);
  });
});
