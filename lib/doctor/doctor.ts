/**
 * `das doctor`: what the native side runs on (libtorch, devices, the BLAS really loaded, threads,
 * build) with a measured GEMM rate, whether bf16 is fast here, and warnings for the set-ups that
 * make everything slow.
 */
import fs from 'node:fs';
import { distributedBackends } from '../native/process-group.js';
import { runtimeInfo, timeGemm, type NativeRuntimeInfo } from '../native/runtime.js';
import { packageName, packageVersion } from '../package-info.js';
import { cpuBudget } from '../util/cpu-budget.js';

export interface DoctorReport {
  package: { name: string; version: string };
  node: { version: string; napiVersion: number; platform: string; arch: string };
  /** `version`: the loaded libtorch's own; the rest as the addon reports it. */
  torch: { version: string } & Omit<NativeRuntimeInfo['torch'], 'runtimeVersion'>;
  cuda: NativeRuntimeInfo['cuda'];
  /** Whether bf16 (--precision bf16) is fast here. */
  bf16: {
    /** The CPU's bf16 instructions, from /proc/cpuinfo: avx512_bf16, amx_bf16 (empty when it has none). */
    cpuFlags: string[];
    /** Measured bf16 GEMM rate at gemmSize on the CPU, GFLOP/s, and its ratio to the float32 rate. */
    cpuGemmGflops: number;
    cpuSpeedup: number;
    /** The CPU has bf16 instructions, so bf16 matrix products beat float32 ones. */
    cpuFast: boolean;
    /** Every visible GPU computes bf16 at full rate (compute capability >= 8.0); null without a GPU or device details. */
    gpuFast: boolean | null;
  };
  /** Collective backends of this build, for data-parallel runs ('gloo', 'nccl'). */
  distributed: { backends: string[] };
  blas: {
    /** "openblas", "mkl", "blis", "flexiblas", "bundled" (linked into libtorch), "reference" or "unknown". */
    vendor: string;
    /** The shared object that provides sgemm_, symlinks resolved. */
    library: string;
    detail: string;
    threading: string;
    /** The BLAS's own thread count, -1 when it does not report one. */
    threads: number;
    /** BLAS_INFO libtorch was built with (Debian: "generic", i.e. whatever libblas.so.3 is). */
    builtWith: string;
    /** True when netlib's unoptimised reference BLAS is live. */
    reference: boolean;
    /** Measured float32 GEMM rate at gemmSize, GFLOP/s. */
    gemmGflops: number;
    gemmSize: number;
  };
  /**
   * libtorch's thread counts; `available`: the CPUs this process may use (its CPU affinity capped
   * by the cgroup quota); `source`: where the default thread count came from.
   */
  threads: { intraOp: number; interOp: number; available: number; requested: number | null; source: string };
  build: { system: string; compiler: string; type: string; cxx11Abi: boolean; napiVersion: number; addonPath: string };
  warnings: string[];
}

const GEMM_SIZE = 512;

/** The CPU's bf16 instruction sets as Linux reports them. */
export function cpuBf16Flags(cpuinfo = readCpuinfo()): string[] {
  const flags = new Set((/^flags\s*:(.*)$/m.exec(cpuinfo)?.[1] ?? '').trim().split(/\s+/));
  return ['avx512_bf16', 'amx_bf16'].filter((flag) => flags.has(flag));
}

function readCpuinfo(): string {
  try {
    return fs.readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return '';
  }
}

export async function doctor(): Promise<DoctorReport> {
  const info = runtimeInfo();
  const gemm = await timeGemm({ n: GEMM_SIZE, iterations: 10, warmup: 3 });
  const bf16Gemm = await timeGemm({ n: GEMM_SIZE, iterations: 10, warmup: 3, dtype: 'bfloat16' });
  const cpuFlags = cpuBf16Flags();
  const requested = process.env.DAS_NUM_THREADS ? Number(process.env.DAS_NUM_THREADS) : null;
  const budget = cpuBudget();
  const report: DoctorReport = {
    package: { name: packageName, version: packageVersion },
    node: { version: process.versions.node, napiVersion: Number(process.versions.napi), platform: process.platform, arch: process.arch },
    torch: {
      version: info.torch.runtimeVersion || info.torch.headerVersion,
      headerVersion: info.torch.headerVersion,
      library: info.torch.library,
      foundVia: info.torch.foundVia,
      cmakeDir: info.torch.cmakeDir,
      mkldnn: info.torch.mkldnn,
      parallelBackend: info.torch.parallelBackend,
      fusedAttention: info.torch.fusedAttention,
    },
    cuda: info.cuda,
    bf16: {
      cpuFlags,
      cpuGemmGflops: round(bf16Gemm.gflops, 1),
      cpuSpeedup: round(bf16Gemm.gflops / gemm.gflops, 2),
      cpuFast: cpuFlags.length > 0,
      gpuFast: info.cuda.devices.length > 0 ? info.cuda.devices.every((d) => d.fastBf16) : null,
    },
    distributed: { backends: distributedBackends() },
    blas: { ...info.blas, reference: info.blas.vendor === 'reference', gemmGflops: round(gemm.gflops, 1), gemmSize: GEMM_SIZE },
    threads: { ...info.threads, available: budget.usable, requested, source: budget.source },
    build: { ...info.build, addonPath: info.addonPath },
    warnings: [],
  };
  report.warnings = warningsFor(report);
  return report;
}

export function warningsFor(report: Omit<DoctorReport, 'warnings'>): string[] {
  const warnings: string[] = [];
  const { blas, threads, torch, cuda } = report;
  if (blas.reference) {
    warnings.push(
      `REFERENCE BLAS IS LIVE (${blas.library}): matrix products run on netlib's unoptimised BLAS at ` +
        `${blas.gemmGflops} GFLOP/s, about 40x slower than OpenBLAS. Fix: sudo apt-get install libopenblas0-openmp ` +
        '(Debian/Ubuntu; it becomes the libblas.so.3 alternative), or run scripts/setup-debian.sh.',
    );
  } else if (blas.vendor === 'unknown') {
    warnings.push(`could not identify the BLAS in ${blas.library || 'this process'}; check the GEMM rate (${blas.gemmGflops} GFLOP/s)`);
  }
  if (threads.intraOp > threads.available) {
    warnings.push(
      `libtorch runs ${threads.intraOp} intra-op threads but this process may use only ${threads.available} CPU(s) (CPU affinity and cgroup quota): ` +
        `the threads fight for CPUs and every step slows down; set DAS_NUM_THREADS=${threads.available} (the thread count came from ${threads.source})`,
    );
  } else if (threads.requested === null && threads.source === 'available CPUs' && threads.intraOp < threads.available) {
    warnings.push(`libtorch uses ${threads.intraOp} intra-op threads of ${threads.available} available`);
  }
  if (torch.headerVersion && torch.version && !torch.version.startsWith(torch.headerVersion.split('.').slice(0, 2).join('.'))) {
    warnings.push(`the addon was compiled against libtorch ${torch.headerVersion} but ${torch.version} is loaded: rebuild (npm run build:native)`);
  }
  if (cuda.built && !cuda.available) warnings.push('libtorch has CUDA support but no usable GPU/driver is visible');
  return warnings;
}

function cudaRows(cuda: DoctorReport['cuda']): [string, string][] {
  const rows: [string, string][] = [['  versions', `CUDA runtime ${cuda.runtimeVersion || '?'}, cuDNN ${cuda.cudnnVersion || '-'}, NCCL ${cuda.ncclVersion || '-'}`]];
  for (const [i, d] of cuda.devices.entries()) {
    rows.push([`  cuda:${i}`, `${d.name}, compute capability ${d.capability}, ${(d.memoryBytes / 2 ** 30).toFixed(0)} GiB${d.fastBf16 ? ', bf16 tensor cores' : ''}`]);
  }
  return rows;
}

function bf16Summary(bf16: DoctorReport['bf16']): string {
  const cpu = bf16.cpuFast
    ? `fast on this CPU (${bf16.cpuFlags.join(', ')})`
    : 'slow on this CPU (no AVX512-BF16 or AMX: emulated, use fp32)';
  const gpu = bf16.gpuFast === null ? '' : bf16.gpuFast ? '; fast on the GPU(s)' : '; slow on a GPU older than Ampere (compute capability < 8.0): use fp16';
  return `${cpu}: GEMM ${bf16.cpuGemmGflops} GFLOP/s, ${bf16.cpuSpeedup}x float32${gpu}`;
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** The human-readable report. */
export function formatDoctor(report: DoctorReport): string {
  const { torch, cuda, blas, threads, build } = report;
  const rows: [string, string][] = [
    ['das-torch', `${report.package.version} (node ${report.node.version}, N-API ${report.node.napiVersion}, ${report.node.platform}-${report.node.arch})`],
    ['libtorch', `${torch.version} (${torch.library})`],
    ['  found via', torch.foundVia],
    ['  parallel', `${torch.parallelBackend}, oneDNN ${torch.mkldnn ? 'yes' : 'no'}`],
    ['  attention', torch.fusedAttention ? 'scaled_dot_product_attention (fused kernels)' : 'explicit softmax(q k^T) v'],
    ['CUDA', cuda.available ? `${cuda.deviceCount} device(s)` : cuda.built ? 'built in, no usable device' : 'not built in (CPU-only libtorch)'],
    ...(cuda.built ? cudaRows(cuda) : []),
    ['bf16', bf16Summary(report.bf16)],
    ['distributed', report.distributed.backends.length ? report.distributed.backends.join(', ') : 'no backend built in (see README, scale-out)'],
    ['BLAS', `${blas.vendor}${blas.reference ? '  <-- SLOW' : ''} (${blas.library})`],
    ['  detail', blas.detail || '-'],
    ['  threading', `${blas.threading || '-'}${blas.threads >= 0 ? `, ${blas.threads} threads` : ''}; libtorch built with BLAS_INFO=${blas.builtWith}`],
    ['  GEMM', `${blas.gemmGflops} GFLOP/s (float32, n=${blas.gemmSize})`],
    ['threads', `intra-op ${threads.intraOp} (from ${threads.source}), inter-op ${threads.interOp}, usable CPUs ${threads.available}`],
    ['addon', `${build.system}, ${build.compiler}, ${build.type}, C++11 ABI ${build.cxx11Abi ? 'on' : 'off'}, N-API ${build.napiVersion}`],
    ['  path', build.addonPath],
  ];
  const width = Math.max(...rows.map(([key]) => key.length));
  const lines = rows.map(([key, value]) => `${key.padEnd(width)}  ${value}`);
  for (const warning of report.warnings) {
    const loud = warning.startsWith('REFERENCE BLAS');
    lines.push('', `${loud ? '!!! WARNING' : 'warning'}: ${warning}`);
  }
  if (report.warnings.length === 0) lines.push('', 'no problems found');
  return lines.join('\n');
}
