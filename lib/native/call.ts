/**
 * Turns errors thrown by the addon into DasErrors, and re-throws async native errors on the JS
 * stack captured before the call (the native stack means nothing to a user).
 */
import { DasError, type DasErrorCode } from '../errors.js';
import { loadBinding, type NativeBinding } from './binding.js';

/** The codes native code may set on an error (das::CodedError); anything else reads as DAS_NATIVE. */
const NATIVE_CODES: ReadonlySet<string> = new Set<DasErrorCode>(['DAS_NATIVE', 'DAS_CHECKPOINT', 'DAS_FILE', 'DAS_DATA', 'DAS_DISTRIBUTED']);

function codeOf(error: unknown): DasErrorCode {
  // The addon marks libtorch failures with DAS_NATIVE, malformed files with DAS_CHECKPOINT and
  // unreadable ones with DAS_FILE; its argument checks throw TypeErrors.
  if (error instanceof TypeError) return 'DAS_INVALID_ARGUMENT';
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' && NATIVE_CODES.has(code) ? (code as DasErrorCode) : error instanceof DasError ? error.code : 'DAS_NATIVE';
}

export function toDasError(error: unknown, callerStack?: string): DasError {
  if (error instanceof DasError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const wrapped = new DasError(codeOf(error), message, { cause: error });
  if (callerStack) wrapped.stack = `${wrapped.name}: ${message}\n${callerStack.split('\n').slice(1).join('\n')}`;
  return wrapped;
}

/** A [sync] native call. */
export function callSync<T>(run: (binding: NativeBinding) => T): T {
  const { binding } = loadBinding();
  try {
    return run(binding);
  } catch (error) {
    throw toDasError(error);
  }
}

/** An [async] native call; a rejection carries the caller's stack. */
export async function callAsync<T>(run: (binding: NativeBinding) => Promise<T>): Promise<T> {
  const caller = new Error().stack;
  const { binding } = loadBinding();
  try {
    return await run(binding);
  } catch (error) {
    throw toDasError(error, caller);
  }
}
