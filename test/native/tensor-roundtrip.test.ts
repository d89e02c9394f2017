import assert from 'node:assert/strict';
import { DasError, echoTensor, hostTensor, type DType, type HostTensor } from '../../lib/index.js';

/** One tensor per dtype, with values at the edges of each type. */
const cases: HostTensor[] = [
  { dtype: 'float32', shape: [2, 3], data: new Float32Array([0, -1.5, 3.25, 1e-38, -3.4e38, Number.NaN]) },
  { dtype: 'float64', shape: [3], data: new Float64Array([Math.PI, -0, 1e-300]) },
  // raw IEEE half bits: 1.0, -2.0, 65504 (max), smallest subnormal
  { dtype: 'float16', shape: [4], data: new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001]) },
  // raw bfloat16 bits: 1.0, -inf, 3.140625
  { dtype: 'bfloat16', shape: [3], data: new Uint16Array([0x3f80, 0xff80, 0x4049]) },
  { dtype: 'int8', shape: [2, 2], data: new Int8Array([-128, 127, 0, -1]) },
  { dtype: 'uint8', shape: [4], data: new Uint8Array([0, 1, 254, 255]) },
  { dtype: 'int16', shape: [2], data: new Int16Array([-32768, 32767]) },
  { dtype: 'int32', shape: [1, 3], data: new Int32Array([-(2 ** 31), 2 ** 31 - 1, 7]) },
  { dtype: 'int64', shape: [3], data: new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n, 42n]) },
  { dtype: 'bool', shape: [2, 2], data: new Uint8Array([1, 0, 0, 1]) },
];

describe('host tensors through native tensors', () => {
  for (const input of cases) {
    it(`round-trips ${input.dtype} bit for bit`, async () => {
      const output = await echoTensor(input, { device: 'cpu' });
      assert.equal(output.dtype, input.dtype);
      assert.deepEqual(output.shape, input.shape);
      assert.equal(output.data.constructor, input.data.constructor);
      assert.deepEqual(Buffer.from(output.data.buffer, output.data.byteOffset, output.data.byteLength), Buffer.from(input.data.buffer));
      assert.notEqual(output.data.buffer, input.data.buffer, 'the result is a new buffer, not the input');
    });
  }

  it('keeps shape for scalars, empty tensors and higher ranks', async () => {
    for (const shape of [[], [0], [2, 0, 3], [2, 1, 2, 1, 2]]) {
      const input = hostTensor('float32', shape);
      input.data.forEach((_, i) => (input.data[i] = i + 0.5));
      const output = await echoTensor(input);
      assert.deepEqual(output.shape, shape);
      assert.deepEqual(Array.from(output.data as Float32Array), Array.from(input.data));
    }
  });

  it('reads a TypedArray that is a window into a larger buffer (offset view)', async () => {
    const backing = new Float32Array([9, 9, 1, 2, 3, 4, 9]);
    const window = new Float32Array(backing.buffer, 2 * 4, 4);
    const output = await echoTensor({ dtype: 'float32', shape: [2, 2], data: window });
    assert.deepEqual(Array.from(output.data as Float32Array), [1, 2, 3, 4]);
  });

  it('converts dtypes with libtorch semantics', async () => {
    const conversions: [HostTensor, DType, number[]][] = [
      [{ dtype: 'int64', shape: [3], data: new BigInt64Array([1n, -2n, 3n]) }, 'float32', [1, -2, 3]],
      [{ dtype: 'float32', shape: [3], data: new Float32Array([1.7, -1.7, 0.2]) }, 'int32', [1, -1, 0]],
      [{ dtype: 'float32', shape: [2], data: new Float32Array([1, -2]) }, 'float16', [0x3c00, 0xc000]],
      [{ dtype: 'float32', shape: [3], data: new Float32Array([0, 2, -0.5]) }, 'bool', [0, 1, 1]],
    ];
    for (const [input, dtype, expected] of conversions) {
      const output = await echoTensor(input, { dtype });
      assert.equal(output.dtype, dtype);
      assert.deepEqual(Array.from(output.data as ArrayLike<number>), expected);
    }
  });

  describe('validation, before anything reaches libtorch', () => {
    const bad: [string, unknown, RegExp][] = [
      ['a bare TypedArray', new Float32Array(2), /Expected a \{ dtype, shape, data \} tensor object for tensor but received a Float32Array/],
      ['an unknown dtype', { dtype: 'complex64', shape: [1], data: new Float32Array(1) }, /tensor\.dtype.*received "complex64"/],
      ['the wrong array type', { dtype: 'int64', shape: [2], data: new Int32Array(2) }, /Expected a BigInt64Array for tensor\.data \(dtype int64\) but received a Int32Array/],
      ['a length that does not fit the shape', { dtype: 'float32', shape: [2, 3], data: new Float32Array(5) }, /Expected 6 elements for shape \[2,3\] for tensor\.data but received "5 elements"/],
      ['a negative dimension', { dtype: 'float32', shape: [-1], data: new Float32Array(0) }, /tensor\.shape\[0\]/],
      ['a fractional dimension', { dtype: 'float32', shape: [1.5], data: new Float32Array(1) }, /tensor\.shape\[0\]/],
    ];
    for (const [name, value, message] of bad) {
      it(`refuses ${name}`, async () => {
        await assert.rejects(echoTensor(value as HostTensor), (err: unknown) => {
          assert.ok(err instanceof DasError);
          assert.equal(err.code, 'DAS_INVALID_ARGUMENT');
          assert.match(err.message, message);
          return true;
        });
      });
    }

    it('refuses bool data other than 0 and 1, in the addon itself', async () => {
      await assert.rejects(echoTensor({ dtype: 'bool', shape: [3], data: new Uint8Array([0, 1, 2]) }), (err: unknown) => {
        assert.ok(err instanceof DasError);
        assert.equal(err.code, 'DAS_INVALID_ARGUMENT');
        assert.match(err.message, /Expected only 0 or 1 in tensor\.data \(dtype bool\) but element 2 is 2/);
        return true;
      });
    });
  });
});
