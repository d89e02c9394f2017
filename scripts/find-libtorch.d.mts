// Types for scripts/find-libtorch.mjs (plain JavaScript so that it runs before TypeScript is built).
export interface LibtorchAttempt {
  where: string;
  why: string;
}

export interface FoundLibtorch {
  /** Which rule found it: "LIBTORCH", "Torch_DIR", "python (...)" or "system (...)". */
  source: string;
  cmakeDir: string;
  prefix: string;
  libDir: string;
  includeDirs: string[];
  /** _GLIBCXX_USE_CXX11_ABI of the libtorch build, null when it does not say. */
  cxx11Abi: boolean | null;
  cuda: boolean;
  libraries: string[];
  tried: LibtorchAttempt[];
  pythonCuda?: string | null;
}

export interface FinderDeps {
  env?: Record<string, string | undefined>;
  exists?: (path: string) => boolean;
  readFile?: (path: string) => string | Buffer;
  run?: (file: string, args: string[], options: object) => string;
}

export class LibtorchNotFoundError extends Error {
  code: 'DAS_LIBTORCH_NOT_FOUND';
  tried: LibtorchAttempt[];
}

export function findLibtorch(deps?: FinderDeps): FoundLibtorch;
export function describeCmakeDir(
  cmakeDir: string,
  exists?: (path: string) => boolean,
  readFile?: (path: string) => string | Buffer,
): ({ ok: true } & Omit<FoundLibtorch, 'source' | 'tried'>) | { ok: false; why: string };
