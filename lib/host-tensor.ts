/**
 * Host tensors: the plain `{ dtype, shape, data }` objects that cross the native boundary. Data is
 * a TypedArray laid out row-major. float16 and bfloat16 travel as raw 16-bit patterns in a
 * Uint16Array; bool as 0/1 bytes in a Uint8Array. Pure TypeScript: data loaders build these
 * without touching the addon.
 */
import { invalidArgument } from './errors.js';

export interface DTypeArrays {
  float32: Float32Array;
  float64: Float64Array;
  float16: Uint16Array;
  bfloat16: Uint16Array;
  int8: Int8Array;
  uint8: Uint8Array;
  int16: Int16Array;
  int32: Int32Array;
  int64: BigInt64Array;
  bool: Uint8Array;
}

export type DType = keyof DTypeArrays;

export interface HostTensor<D extends DType = DType> {
  dtype: D;
  shape: number[];
  data: DTypeArrays[D];
}

type ArrayConstructorOf<D extends DType> = { new (length: number): DTypeArrays[D]; readonly name: string };

const ARRAY_TYPES: { [D in DType]: ArrayConstructorOf<D> } = {
  float32: Float32Array,
  float64: Float64Array,
  float16: Uint16Array,
  bfloat16: Uint16Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  int32: Int32Array,
  int64: BigInt64Array,
  bool: Uint8Array,
};

export const DTYPES = Object.keys(ARRAY_TYPES) as DType[];

export function isDType(value: unknown): value is DType {
  return typeof value === 'string' && Object.hasOwn(ARRAY_TYPES, value);
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((product, size) => product * size, 1);
}

/** A zero-filled tensor, or one over `data` (not copied) after checking it fits. */
export function hostTensor<D extends DType>(dtype: D, shape: number[], data?: DTypeArrays[D]): HostTensor<D> {
  const tensor = { dtype, shape, data: data ?? new ARRAY_TYPES[dtype](numel(shape)) } as HostTensor<D>;
  validateHostTensor(tensor, 'tensor');
  return tensor;
}

/** Checks dtype, shape and data agree; throws a DasError naming `what` otherwise. */
export function validateHostTensor(value: unknown, what: string): asserts value is HostTensor {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || ArrayBuffer.isView(value)) {
    throw invalidArgument(what, 'a { dtype, shape, data } tensor object', value);
  }
  const { dtype, shape, data } = value as Partial<HostTensor>;
  if (!isDType(dtype)) throw invalidArgument(`${what}.dtype`, `one of ${DTYPES.join(', ')}`, dtype);
  if (!Array.isArray(shape)) throw invalidArgument(`${what}.shape`, 'an array of non-negative integers', shape);
  shape.forEach((size, i) => {
    if (!Number.isSafeInteger(size) || size < 0) throw invalidArgument(`${what}.shape[${i}]`, 'a non-negative integer', size);
  });
  const arrayType = ARRAY_TYPES[dtype];
  if (!(data instanceof arrayType)) throw invalidArgument(`${what}.data (dtype ${dtype})`, `a ${arrayType.name}`, data);
  const expected = numel(shape);
  if (data.length !== expected) {
    throw invalidArgument(`${what}.data`, `${expected} elements for shape [${shape.join(',')}]`, `${data.length} elements`);
  }
}
