// Types for scripts/build-progress.mjs.
export interface BuildProgress {
  /** 0..100 */
  percent: number;
  /** "compiling native/models/vilt.cc", "linking the addon" */
  step: string;
}
export function parseBuildProgress(line: string): BuildProgress | null;
export function formatElapsed(ms: number): string;
