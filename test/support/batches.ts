/** Valid batches built from a model's BatchSpec, and the ways to spoil one, for the batch-check tests. */
import type { BatchSpec, DType, FieldSpec, HostTensor } from '../../lib/index.js';

export type Batch = Record<string, HostTensor>;

/** Sizes of the named dimensions: 2 rows of 5 tokens, images of the smallest allowed side. */
export function exampleSizes(spec: BatchSpec): Map<string, number> {
  const sizes = new Map<string, number>([
    ['rows', 2],
    ['tokens', 5],
    ['images', spec.fields.some((f) => f.shape[0] === 'images') ? 1 : 2],
  ]);
  for (const [name, limit] of Object.entries(spec.limits)) if (!sizes.has(name)) sizes.set(name, limit.min);
  spec.derive?.(sizes);
  return sizes;
}

function shapeOf(field: FieldSpec, sizes: Map<string, number>): number[] {
  return field.shape.map((d) => (typeof d === 'number' ? d : sizes.get(d)!));
}

function tensor(dtype: DType, shape: number[], value: (i: number) => number): HostTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data =
    dtype === 'int64' ? BigInt64Array.from({ length: n }, (_, i) => BigInt(value(i))) :
    dtype === 'float32' ? Float32Array.from({ length: n }, (_, i) => value(i)) :
    dtype === 'uint8' ? Uint8Array.from({ length: n }, (_, i) => value(i)) :
    Int32Array.from({ length: n }, (_, i) => value(i));
  return { dtype, shape, data } as HostTensor;
}

/** A tensor that satisfies `field` at these sizes. */
export function validTensor(field: FieldSpec, sizes: Map<string, number>): HostTensor {
  const shape = shapeOf(field, sizes);
  switch (field.kind) {
    case 'ids': {
      const max = typeof field.max === 'number' ? field.max : sizes.get(field.max!)!;
      return tensor('int32', shape, (i) => (i * 7 + 3) % max);
    }
    case 'keys':
      return tensor('int64', shape, (i) => 1000 + i);
    case 'mask':
      return tensor('uint8', shape, () => 1);
    case 'pixels':
      return tensor('float32', shape, (i) => ((i % 17) - 8) / 8);
    case 'scores':
      return tensor('float32', shape, (i) => [0, 0.3, 0.6, 0.9, 1][i % 5]!);
  }
}

/** Every field of the spec (optional ones included), valid. */
export function validBatch(spec: BatchSpec, sizes = exampleSizes(spec)): Batch {
  return Object.fromEntries(spec.fields.map((field) => [field.name, validTensor(field, sizes)]));
}

/** `tensor` with element `index` set to `value` (a copy). */
export function withElement(tensor: HostTensor, index: number, value: number): HostTensor {
  const data = tensor.data.slice() as HostTensor['data'];
  if (data instanceof BigInt64Array) data[index] = BigInt(value);
  else (data as Exclude<HostTensor['data'], BigInt64Array>)[index] = value;
  return { ...tensor, data } as HostTensor;
}

/** `tensor` reshaped by adding `delta` to dimension `dim` (data rebuilt to fit, values valid-looking). */
export function withDimension(source: HostTensor, dim: number, delta: number): HostTensor {
  const shape = source.shape.map((s, i) => (i === dim ? s + delta : s));
  const first = source.data.length > 0 ? Number(source.data[0]) : 0;
  return tensor(source.dtype, shape, () => first);
}
