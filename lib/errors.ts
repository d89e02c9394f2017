/**
 * One error family for the whole package. Every error has a stable `code` that scripts and other
 * tools can test, and a message that names the argument, file, key or shape that is wrong and what
 * was expected.
 */
export type DasErrorCode =
  | 'DAS_INVALID_ARGUMENT' // a value passed to the API or the CLI is wrong
  | 'DAS_NATIVE' // libtorch or the addon reported an error
  | 'DAS_ADDON_LOAD' // the native addon could not be loaded
  | 'DAS_FILE' // a file is missing, unreadable or malformed
  | 'DAS_DATA' // a dataset violates its format
  | 'DAS_CHECKPOINT' // a checkpoint is malformed, or does not fit the model
  | 'DAS_DISTRIBUTED' // a data-parallel job failed: a rank was lost or stopped, or the ranks disagree
  | 'DAS_ABORTED'; // work stopped on request

export class DasError extends Error {
  readonly code: DasErrorCode;

  constructor(code: DasErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DasError';
    this.code = code;
  }
}

/** A wrong argument; the message follows "Expected X for Y but received Z". */
export function invalidArgument(what: string, expected: string, received: unknown): DasError {
  return new DasError('DAS_INVALID_ARGUMENT', `Expected ${expected} for ${what} but received ${describe(received)}`);
}

/** A short, readable description of a received value for error messages. */
export function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name} of length ${(value as unknown as ArrayLike<unknown>).length ?? value.byteLength}`;
  if (typeof value === 'function') return 'a function';
  return `an object (${value.constructor?.name ?? 'Object'})`;
}
