import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DasError, readCheckpoint, writeSafetensors, type HostTensor } from '../../lib/index.js';
import { hostBytes, readExpected, runFixtureScript, torchFixtures } from '../support/torch-fixtures.js';

/** A safetensors file from a header (object, or raw text) and a data section; `length` overrides the header length. */
function safetensors(header: unknown, data: Buffer = Buffer.alloc(0), length?: bigint): Buffer {
  const text = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(length ?? BigInt(text.length));
  return Buffer.concat([prefix, text, data]);
}

const f32 = (name: string, shape: number[], begin: number, end: number) => ({ [name]: { dtype: 'F32', shape, data_offsets: [begin, end] } });

describe('safetensors', function () {
  this.timeout(180_000);
  let folder: string;
  before(() => (folder = fs.mkdtempSync(path.join(os.tmpdir(), 'das-st-'))));
  after(() => fs.rmSync(folder, { recursive: true, force: true }));

  const every: Record<string, HostTensor> = {
    'z.last.name.first': { dtype: 'float32', shape: [2, 3], data: new Float32Array([0, -1.5, 3.25, 1e-38, -3.4e38, Number.NaN]) },
    f64: { dtype: 'float64', shape: [3], data: new Float64Array([Math.PI, -0, 1e-300]) },
    f16: { dtype: 'float16', shape: [4], data: new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001]) },
    bf16: { dtype: 'bfloat16', shape: [3], data: new Uint16Array([0x3f80, 0xff80, 0x4049]) },
    i8: { dtype: 'int8', shape: [2, 2], data: new Int8Array([-128, 127, 0, -1]) },
    u8: { dtype: 'uint8', shape: [3], data: new Uint8Array([0, 1, 255]) },
    i16: { dtype: 'int16', shape: [2], data: new Int16Array([-32768, 32767]) },
    i32: { dtype: 'int32', shape: [1, 3], data: new Int32Array([-(2 ** 31), 2 ** 31 - 1, 7]) },
    i64: { dtype: 'int64', shape: [3], data: new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n, 42n]) },
    bool: { dtype: 'bool', shape: [2, 2], data: new Uint8Array([1, 0, 0, 1]) },
    scalar: { dtype: 'float32', shape: [], data: new Float32Array([7]) },
    empty: { dtype: 'float32', shape: [0, 4], data: new Float32Array(0) },
  };

  it('writes and reads back every dtype bit for bit, in order, with metadata', async () => {
    const file = path.join(folder, 'every.safetensors');
    await writeSafetensors(file, every, { format: 'pt', 'das.skipped': '["En3"]' });
    const back = await readCheckpoint(file);
    assert.equal(back.format, 'safetensors');
    assert.deepEqual(back.names, Object.keys(every));
    assert.deepEqual(back.metadata, { format: 'pt', 'das.skipped': '["En3"]' });
    for (const [name, tensor] of Object.entries(every)) {
      assert.equal(back.tensors[name]!.dtype, tensor.dtype);
      assert.deepEqual(back.tensors[name]!.shape, tensor.shape);
      assert.ok(hostBytes(back.tensors[name]!).equals(hostBytes(tensor)), name);
    }
    const headerLength = Number(fs.readFileSync(file).readBigUInt64LE(0));
    assert.equal((8 + headerLength) % 8, 0, 'the data section starts 8-byte aligned');
  });

  it('reads a file written by an independent (Python json + struct) writer bit for bit', async () => {
    const file = path.join(torchFixtures().folder, 'python.safetensors');
    const expected = readExpected(file);
    const back = await readCheckpoint(file);
    assert.deepEqual(back.names, expected.names);
    assert.deepEqual(back.metadata, { format: 'pt', note: 'written by json + struct' });
    for (const [name, want] of expected.tensors) {
      assert.equal(back.tensors[name]!.dtype, want.dtype);
      assert.deepEqual(back.tensors[name]!.shape, want.shape);
      assert.ok(hostBytes(back.tensors[name]!).equals(want.bytes), name);
    }
  });

  it('converts a torch.save checkpoint to safetensors that Python checks against torch.load', async () => {
    for (const source of ['hf.bin', 'lightning.ckpt']) {
      const original = path.join(torchFixtures().folder, source);
      const { tensors, names } = await readCheckpoint(original);
      const file = path.join(folder, `${source}.safetensors`);
      await writeSafetensors(file, tensors, { source });
      const report = JSON.parse(runFixtureScript(['verify-safetensors', file, original])) as { checked: number; problems: string[]; metadata: unknown };
      assert.deepEqual(report.problems, []);
      assert.equal(report.checked, names.length);
      assert.deepEqual(report.metadata, { source });
    }
  });

  it('replaces a file atomically and leaves no temporary file behind', async () => {
    const file = path.join(folder, 'atomic.safetensors');
    fs.writeFileSync(file, 'old content');
    await writeSafetensors(file, { a: every.f64! });
    assert.deepEqual((await readCheckpoint(file)).names, ['a']);
    assert.deepEqual(fs.readdirSync(folder).filter((name) => name.startsWith('atomic')), ['atomic.safetensors']);
    await assert.rejects(writeSafetensors(path.join(folder, 'missing-dir', 'x.safetensors'), { a: every.f64! }), (err: unknown) => {
      assert.ok(err instanceof DasError);
      assert.equal(err.code, 'DAS_FILE');
      assert.match(err.message, /missing-dir\/x\.safetensors/);
      return true;
    });
  });

  it('validates tensors and metadata in TypeScript', async () => {
    const file = path.join(folder, 'invalid.safetensors');
    await assert.rejects(writeSafetensors(file, { a: { dtype: 'float32', shape: [3], data: new Float32Array(2) } }), /Expected 3 elements for shape \[3\] for tensors\["a"\]\.data/);
    await assert.rejects(writeSafetensors(file, { __metadata__: every.f64! }), /reserved by safetensors/);
    await assert.rejects(writeSafetensors(file, {}, { n: 1 as unknown as string }), /Expected a string for metadata\["n"\] but received 1/);
    assert.equal(fs.existsSync(file), false);
  });

  describe('refuses malformed files with a message naming the file and the field', () => {
    const four = Buffer.alloc(16);
    const cases: [string, Buffer, RegExp][] = [
      ['a file shorter than the length field', Buffer.from([1, 2, 3]), /the file has 3 bytes, too short for any checkpoint format/],
      ['a header length past the end of the file', safetensors(f32('w', [4], 0, 16), four, 1000n), /header length 1000 runs past the end of the file/],
      ['an absurd header length', safetensors(f32('w', [4], 0, 16), four, 1n << 62n), /header length \d+ is not between 2 and 100000000/],
      ['a header that is not JSON', safetensors('{"w": {"dtype": "F32",', four), /header is not valid JSON/],
      ['an entry that is not an object', safetensors('{"w": 5}'), /tensor "w" must be an object but is 5/],
      ['offsets past the data section', safetensors(f32('w', [8], 0, 32), four), /tensor "w" data_offsets \[0, 32\) are not inside the data section of 16 bytes/],
      ['reversed offsets', safetensors(f32('w', [0], 16, 0), four), /tensor "w" data_offsets \[16, 0\)/],
      ['overlapping tensors', safetensors({ ...f32('a', [3], 0, 12), ...f32('b', [2], 8, 16) }, four), /tensor "b" overlaps tensor "a"/],
      ['a size that does not match the shape', safetensors(f32('w', [3], 0, 16), four), /tensor "w" shape \[3\] of F32 needs 12 bytes but data_offsets span 16/],
      ['an unknown dtype', safetensors({ w: { dtype: 'Q4', shape: [16], data_offsets: [0, 16] } }, four), /tensor "w" has dtype "Q4", which is not one of/],
      ['a negative dimension', safetensors(f32('w', [-4], 0, 16), four), /non-negative integer for tensor "w" shape\[0\]/],
      ['a fractional offset', safetensors(f32('w', [4], 0, 15.5), four), /non-negative integer for tensor "w" data_offsets\[1\]/],
      ['a missing field', safetensors({ w: { dtype: 'F32', shape: [4] } }, four), /tensor "w" has no "data_offsets"/],
      ['a duplicated tensor name', safetensors('{"w":{"dtype":"U8","shape":[16],"data_offsets":[0,16]},"w":{"dtype":"U8","shape":[16],"data_offsets":[0,16]}}', four), /the key "w" appears twice/],
      ['non-string metadata', safetensors({ __metadata__: { epoch: 3 }, ...f32('w', [4], 0, 16) }, four), /__metadata__\["epoch"\] must be a string/],
      ['bytes that belong to no tensor', safetensors(f32('w', [2], 8, 16), four), /bytes 0 to 8 of the data section belong to no tensor/],
      ['trailing bytes', safetensors(f32('w', [2], 0, 8), four), /data section has 16 bytes but the tensors cover 8/],
      ['a shape whose size overflows', safetensors(f32('w', [2 ** 40, 2 ** 40], 0, 16), four), /needs more than 2\^64 bytes/],
      ['bool values other than 0 and 1', safetensors({ m: { dtype: 'BOOL', shape: [16], data_offsets: [0, 16] } }, Buffer.alloc(16, 2)), /holds bool values other than 0 and 1/],
    ];
    for (const [title, bytes, pattern] of cases) {
      it(title, async () => {
        const file = path.join(folder, 'bad.safetensors');
        fs.writeFileSync(file, bytes);
        await assert.rejects(readCheckpoint(file), (err: unknown) => {
          assert.ok(err instanceof DasError, String(err));
          assert.equal(err.code, 'DAS_CHECKPOINT');
          assert.match(err.message, /^Checkpoint .*bad\.safetensors: /);
          assert.match(err.message, pattern);
          return true;
        });
      });
    }
  });
});
