// Types for scripts/find-c10d.mjs (plain JavaScript so that it runs before TypeScript is built).
import type { FoundLibtorch } from './find-libtorch.mjs';

export type BackendSearch = { includeDir: string } | { missing: string };

export interface FoundC10d {
  backends: { gloo: BackendSearch; nccl: BackendSearch };
  /** DAS_WITH_GLOO=1, DAS_WITH_NCCL=1 for the backends found. */
  defines: string[];
  /** Header folders the compiler does not search by itself. */
  includeDirs: string[];
}

export interface C10dDeps {
  env?: Record<string, string | undefined>;
  exists?: (path: string) => boolean;
  /** Whether a library file contains a symbol name. */
  contains?: (file: string, text: string) => boolean;
}

export function fileContains(file: string, text: string, chunkBytes?: number): boolean;
export function findC10d(libtorch: Pick<FoundLibtorch, 'libDir' | 'includeDirs' | 'cuda' | 'prefix'>, deps?: C10dDeps): FoundC10d;
