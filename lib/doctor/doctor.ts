/**
 * `das doctor`: what the native side runs on (libtorch, devices, the BLAS really loaded, threads,
 * build) with a measured GEMM rate, and warnings for the set-ups that make everything slow.
 */
import os from 'node:os';
import { distributedBackends } from '../native/process-group.js';
import { runtimeInfo, timeGemm } from '../native/runtime.js';
import { packageName, packageVersion } from '../package-info.js';

export interface DoctorReport {
  package: { name: string; version: string };
  node: { version: string; napiVersion: number; platform: string; arch: string };
  torch: { version: string; headerVersion: string; library: string; foundVia: string; cmakeDir: string; mkldnn: boolean; parallelBackend: string };
  cuda: { built: boolean; available: boolean; deviceCount: number };
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
  threads: { intraOp: number; interOp: number; available: number; requested: number | null };
  build: { system: string; compiler: string; type: string; cxx11Abi: boolean; napiVersion: number; addonPath: string };
  warnings: string[];
}

const GEMM_SIZE = 512;

export async function doctor(): Promise<DoctorReport> {
  const info = runtimeInfo();
  const gemm = await timeGemm({ n: GEMM_SIZE, iterations: 10, warmup: 3 });
  const requested = process.env.DAS_NUM_THREADS ? Number(process.env.DAS_NUM_THREADS) : null;
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
    },
    cuda: info.cuda,
    distributed: { backends: distributedBackends() },
    blas: { ...info.blas, reference: info.blas.vendor === 'reference', gemmGflops: round(gemm.gflops, 1), gemmSize: GEMM_SIZE },
    threads: { ...info.threads, available: os.availableParallelism(), requested },
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
  if (threads.requested === null && threads.intraOp < threads.available) {
    warnings.push(`libtorch uses ${threads.intraOp} intra-op threads of ${threads.available} available`);
  }
  if (torch.headerVersion && torch.version && !torch.version.startsWith(torch.headerVersion.split('.').slice(0, 2).join('.'))) {
    warnings.push(`the addon was compiled against libtorch ${torch.headerVersion} but ${torch.version} is loaded: rebuild (npm run build:native)`);
  }
  if (cuda.built && !cuda.available) warnings.push('libtorch has CUDA support but no usable GPU/driver is visible');
  return warnings;
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
    ['CUDA', cuda.available ? `${cuda.deviceCount} device(s)` : cuda.built ? 'built in, no usable device' : 'not built in (CPU-only libtorch)'],
    ['distributed', report.distributed.backends.length ? report.distributed.backends.join(', ') : 'no backend built in (see README, scale-out)'],
    ['BLAS', `${blas.vendor}${blas.reference ? '  <-- SLOW' : ''} (${blas.library})`],
    ['  detail', blas.detail || '-'],
    ['  threading', `${blas.threading || '-'}${blas.threads >= 0 ? `, ${blas.threads} threads` : ''}; libtorch built with BLAS_INFO=${blas.builtWith}`],
    ['  GEMM', `${blas.gemmGflops} GFLOP/s (float32, n=${blas.gemmSize})`],
    ['threads', `intra-op ${threads.intraOp}, inter-op ${threads.interOp}, available ${threads.available}${threads.requested ? ` (DAS_NUM_THREADS=${threads.requested})` : ''}`],
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
