import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { DasError, readCheckpoint } from '../../lib/index.js';
import { hostBytes, pythonEval, readExpected, torchFixtures } from '../support/torch-fixtures.js';

function fixture(name: string): string {
  return path.join(torchFixtures().folder, name);
}

function rejectsWith(pattern: RegExp, code = 'DAS_CHECKPOINT') {
  return (err: unknown) => {
    assert.ok(err instanceof DasError, `expected a DasError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.message, pattern);
    return true;
  };
}

describe('checkpoints written by torch.save', function () {
  this.timeout(180_000);
  before(() => torchFixtures());

  const cases: [string, 'torch-zip' | 'torch-legacy', string][] = [
    ['hf.bin', 'torch-zip', 'HuggingFace pytorch_model.bin (zip, protocol 2)'],
    ['hf-protocol4.bin', 'torch-zip', 'the same saved with pickle protocol 4 (FRAME, STACK_GLOBAL, MEMOIZE)'],
    ['hf-legacy.bin', 'torch-legacy', 'the same in the legacy (pre-1.6) format'],
    ['lightning.ckpt', 'torch-zip', 'a Lightning checkpoint (state_dict, hyper_parameters, optimizer states)'],
    ['lightning-legacy.ckpt', 'torch-legacy', 'a Lightning checkpoint in the legacy format'],
    ['zip64.bin', 'torch-zip', 'an archive with zip64 sizes and offsets'],
    ['little-endian.bin', 'torch-zip', 'an archive with a byteorder record'],
  ];
  for (const [name, format, title] of cases) {
    it(`reads ${title} bit for bit`, async () => {
      const file = fixture(name);
      const expected = readExpected(file);
      const checkpoint = await readCheckpoint(file);
      assert.equal(checkpoint.format, format);
      assert.deepEqual(checkpoint.names, expected.names, 'the tensors of the state dict, in file order');
      assert.deepEqual(Object.keys(checkpoint.tensors).sort(), [...expected.names].sort());
      for (const [tensorName, want] of expected.tensors) {
        const got = checkpoint.tensors[tensorName]!;
        assert.equal(got.dtype, want.dtype, tensorName);
        assert.deepEqual(got.shape, want.shape, tensorName);
        assert.ok(hostBytes(got).equals(want.bytes), `${tensorName}: the bytes differ from torch's`);
      }
    });
  }

  it('rebuilds views that share a storage (offset and strides) from the right elements', async () => {
    const { tensors } = await readCheckpoint(fixture('hf.bin'));
    const base = tensors['encoder.base']!.data as Float32Array; // 5 x 8
    const view = tensors['encoder.view']!.data as Float32Array; // base[1:4, 2::3] -> 3 x 2
    assert.deepEqual(tensors['encoder.view']!.shape, [3, 2]);
    assert.deepEqual(Array.from(view), [1, 2, 3].flatMap((row) => [base[row * 8 + 2], base[row * 8 + 5]]));
    const transposed = tensors['encoder.transposed']!.data as Float32Array; // 8 x 5
    assert.equal(transposed[3 * 5 + 2], base[2 * 8 + 3]);
  });

  it("reports a Lightning checkpoint's scalar fields as metadata", async () => {
    const { metadata } = await readCheckpoint(fixture('lightning.ckpt'));
    assert.deepEqual(metadata, { epoch: '7', global_step: '1234', 'pytorch-lightning_version': '1.9.0', best_score: '0.75' });
  });

  it('reads only the named tensors when asked', async () => {
    const checkpoint = await readCheckpoint(fixture('hf.bin'), { names: ['half', 'encoder.view', 'not.in.file'] });
    assert.deepEqual(checkpoint.names, ['encoder.view', 'half']);
    assert.ok(hostBytes(checkpoint.tensors.half!).equals(readExpected(fixture('hf.bin')).tensors.get('half')!.bytes));
  });

  it('refuses a pickle that calls os.system, naming the global and the file, and runs nothing', async () => {
    const { folder, marker } = torchFixtures();
    for (const name of ['evil-system.bin', 'evil-system-protocol4.bin', 'evil-system-legacy.bin']) {
      await assert.rejects(readCheckpoint(fixture(name)), rejectsWith(new RegExp(`${name}.*refusing the global posix\\.system`)));
    }
    assert.equal(fs.existsSync(marker), false, 'the payload ran');
    // The fixture is a real attack: Python's own full unpickler runs it (torch >= 2.6 needs weights_only=False for that).
    pythonEval(`import torch; torch.load(${JSON.stringify(fixture('evil-system.bin'))}, weights_only=False)`, folder);
    assert.equal(fs.existsSync(marker), true, "the fixture's payload should run under torch.load");
    fs.rmSync(marker);
  });

  it('refuses builtins.eval hidden in hyper_parameters', async () => {
    await assert.rejects(readCheckpoint(fixture('evil-eval.ckpt')), rejectsWith(/refusing the global __builtin__\.eval: it is not on the weights-only allowlist/));
  });

  it('refuses big-endian tensors and compressed records', async () => {
    await assert.rejects(readCheckpoint(fixture('big-endian.bin')), rejectsWith(/big-endian.bin: the tensors are stored big-endian/));
    await assert.rejects(readCheckpoint(fixture('compressed.bin')), rejectsWith(/entry small\/(data\.pkl|byteorder) is compressed/));
  });

  it('names a missing file with DAS_FILE', async () => {
    await assert.rejects(readCheckpoint(fixture('nope.bin')), rejectsWith(/Cannot open checkpoint .*nope\.bin: No such file/, 'DAS_FILE'));
  });

  it('checks its arguments in TypeScript', async () => {
    await assert.rejects(readCheckpoint(''), rejectsWith(/Expected a file path for path but received ""/, 'DAS_INVALID_ARGUMENT'));
    await assert.rejects(readCheckpoint('x', { names: [1 as unknown as string] }), rejectsWith(/Expected an array of tensor names for names/, 'DAS_INVALID_ARGUMENT'));
  });
});
