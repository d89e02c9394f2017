/**
 * Checks a step's batch against its model's BatchSpec before it crosses into the addon, so that
 * every mistake gets one message naming the field ("Expected X for Y but received Z") instead of
 * libtorch's text or a silently wrong result: unknown keys (a typo would silently drop a mask),
 * dtypes, shapes and the sizes fields must share, token ids outside the vocabulary, labels outside
 * the head's classes, scores outside [0, 1], a missing target. Mask values are not scanned (any
 * non-zero value keeps a position, as in the addon): a ViLT pixel mask has millions per batch.
 */
import { DasError, invalidArgument } from '../errors.js';
import { validateHostTensor, type DType, type HostTensor } from '../host-tensor.js';
import type { BatchSpec, Dim, FieldKind, FieldSpec } from './batch-spec.js';

const INTEGER: readonly DType[] = ['int8', 'uint8', 'int16', 'int32', 'int64'];
const FLOAT: readonly DType[] = ['float32', 'float64', 'float16', 'bfloat16'];

const DTYPES_OF: Record<FieldKind, { dtypes: readonly DType[]; text: string }> = {
  ids: { dtypes: INTEGER, text: 'an integer dtype' },
  keys: { dtypes: INTEGER, text: 'an integer dtype' },
  mask: { dtypes: [...INTEGER, 'bool'], text: 'an integer or bool dtype' },
  pixels: { dtypes: FLOAT, text: 'a floating-point dtype' },
  scores: { dtypes: FLOAT, text: 'a floating-point dtype' },
};

/** What the step will do with the batch: train needs targets; eval needs them unless logits are asked for. */
export type BatchUse = 'train' | 'eval' | 'eval-logits' | 'profile';

/** "Expected X for Y but received Z" with Z already written out (invalidArgument would quote it). */
function mismatch(what: string, expected: string, received: string): DasError {
  return new DasError('DAS_INVALID_ARGUMENT', `Expected ${expected} for ${what} but received ${received}`);
}

/** The edit distance of two short strings (for "did you mean"). */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length]!;
}

function unknownKey(spec: BatchSpec, key: string): DasError {
  const names = spec.fields.map((f) => f.name);
  const close = names.filter((name) => distance(name, key) <= Math.max(2, Math.floor(name.length / 4))).sort((a, b) => distance(a, key) - distance(b, key));
  const hint = close.length > 0 ? ` (did you mean ${JSON.stringify(close[0])}?)` : '';
  return mismatch(`batch.${key}`, `one of the fields ${spec.model} reads (${names.join(', ')})`, `a field it does not know${hint}`);
}

function shapeText(shape: readonly Dim[], sizes: Map<string, number>): string {
  return `[${shape.map((d) => (typeof d === 'number' ? d : sizes.has(d) ? sizes.get(d) : d)).join(', ')}]`;
}

/** Binds and checks the sizes of one field's shape. `origin` says which field fixed each named size. */
function checkShape(spec: BatchSpec, field: FieldSpec, tensor: HostTensor, sizes: Map<string, number>, origin: Map<string, string>): void {
  const what = `the shape of batch.${field.name}`;
  const expected = () => {
    const fixed = field.shape.filter((d): d is string => typeof d === 'string' && origin.has(d) && origin.get(d) !== field.name);
    const from = fixed.length > 0 ? ` (${fixed.map((d) => `${d} ${sizes.get(d)} from ${origin.get(d)}`).join(', ')})` : '';
    return `${shapeText(field.shape, sizes)}${from}`;
  };
  if (tensor.shape.length !== field.shape.length) throw mismatch(what, expected(), `[${tensor.shape.join(', ')}]`);
  field.shape.forEach((dim, i) => {
    const size = tensor.shape[i]!;
    if (typeof dim === 'number') {
      if (size !== dim) throw mismatch(what, expected(), `[${tensor.shape.join(', ')}]`);
      return;
    }
    if (sizes.has(dim)) {
      if (sizes.get(dim) !== size) throw mismatch(what, expected(), `[${tensor.shape.join(', ')}]`);
      return;
    }
    const limit = spec.limits[dim];
    if (limit && size < limit.min) throw invalidArgument(`the ${dim} of batch.${field.name} (dimension ${i})`, `at least ${limit.min}`, size);
    if (limit?.max !== undefined && size > limit.max) {
      throw invalidArgument(`the ${dim} of batch.${field.name} (dimension ${i})`, `at most ${limit.max}${limit.why ? ` (${limit.why})` : ''}`, size);
    }
    sizes.set(dim, size);
    origin.set(dim, field.name);
  });
}

/** Row-major index of flat element `flat` in `shape`, as "[i, j, ...]". */
function indexText(flat: number, shape: readonly number[]): string {
  const index: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    index.unshift(flat % shape[d]!);
    flat = Math.floor(flat / shape[d]!);
  }
  return `[${index.join(', ')}]`;
}

/** The first element outside [low, high) (integers) or [low, high] (scores), if any. */
function firstOutside(tensor: HostTensor, low: number, high: number, closed: boolean): number {
  const data = tensor.data;
  if (data instanceof BigInt64Array) {
    const lo = BigInt(low);
    const hi = BigInt(high);
    for (let i = 0; i < data.length; i++) if (data[i]! < lo || data[i]! >= hi) return i;
    return -1;
  }
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number;
    if (!(v >= low && (closed ? v <= high : v < high))) return i; // NaN fails both
  }
  return -1;
}

function checkValues(field: FieldSpec, tensor: HostTensor, sizes: Map<string, number>): void {
  const element = (i: number) => `${String(tensor.data[i])} at ${indexText(i, tensor.shape)}`;
  if (field.kind === 'ids') {
    const max = typeof field.max === 'number' ? field.max : sizes.get(field.max!)!;
    const bad = firstOutside(tensor, 0, max, false);
    if (bad >= 0) throw mismatch(`batch.${field.name}`, `${field.meaning} in [0, ${max})${field.maxWhy ? ` (${field.maxWhy})` : ''}`, element(bad));
  } else if (field.kind === 'scores' && (tensor.dtype === 'float32' || tensor.dtype === 'float64')) {
    const bad = firstOutside(tensor, 0, 1, true);
    if (bad >= 0) throw mismatch(`batch.${field.name}`, `${field.meaning} in [0, 1]`, element(bad));
  }
}

/** Throws a DasError (DAS_INVALID_ARGUMENT) naming the first problem of `batch` for a step of `spec`'s model. */
export function checkBatch(spec: BatchSpec, batch: unknown, use: BatchUse): asserts batch is Record<string, HostTensor> {
  if (typeof batch !== 'object' || batch === null || Array.isArray(batch) || ArrayBuffer.isView(batch)) throw invalidArgument('batch', 'an object of named tensors', batch);
  const given = batch as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!spec.fields.some((f) => f.name === key)) throw unknownKey(spec, key);
  }
  const sizes = new Map<string, number>();
  const origin = new Map<string, string>();
  for (const field of spec.fields) {
    const value = given[field.name];
    if (value === undefined) {
      if (field.required) throw mismatch(`batch.${field.name}`, `${field.meaning} of shape ${shapeText(field.shape, sizes)} (${spec.model} reads it)`, 'a batch without it');
      continue;
    }
    validateHostTensor(value, `batch.${field.name}`);
    const { dtypes, text } = DTYPES_OF[field.kind];
    if (!dtypes.includes(value.dtype)) throw invalidArgument(`batch.${field.name} (${field.meaning})`, `${text} (${dtypes.join(', ')})`, value.dtype);
    checkShape(spec, field, value, sizes, origin);
  }
  const relation = spec.derive?.(sizes);
  if (relation) throw mismatch(relation.what, relation.expected, relation.received);
  for (const field of spec.fields) {
    const value = given[field.name];
    if (value !== undefined) checkValues(field, value as HostTensor, sizes);
  }
  const target = spec.fields.find((f) => f.target && given[f.name] === undefined);
  if (target && (use === 'train' || use === 'eval')) {
    const why = use === 'train' ? 'a train step computes its loss from it' : 'an eval step without logits: true has only the loss to report';
    throw mismatch(`batch.${target.name}`, `${target.meaning} of shape ${shapeText(target.shape, sizes)} (${why})`, 'a batch without it');
  }
}
