import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { DasError, matmul, normalizeDevice, runtimeInfo, timeGemm, type HostTensor } from '../../lib/index.js';
import { repoRoot } from '../support/repo.js';

const a: HostTensor = { dtype: 'float32', shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) };
const b: HostTensor = { dtype: 'float32', shape: [3, 1], data: new Float32Array([1, 0, -1]) };

describe('native errors', () => {
  it('computes a real product (the baseline for the failures below)', async () => {
    const product = await matmul(a, b);
    assert.deepEqual(product.shape, [2, 1]);
    assert.deepEqual(Array.from(product.data as Float32Array), [-2, -2]);
  });

  it("surfaces libtorch's own message as a DasError on the caller's stack", async function callerMarker() {
    await assert.rejects(matmul(a, a), (err: unknown) => {
      assert.ok(err instanceof DasError);
      assert.equal(err.code, 'DAS_NATIVE');
      assert.match(err.message, /mat1 and mat2 shapes cannot be multiplied \(2x3 and 2x3\)/);
      assert.doesNotMatch(err.message, /Exception raised from|frame #/, 'no C++ backtrace in the message');
      assert.match(err.stack ?? '', /errors\.test\.(js|ts)/, 'the stack points at the calling test');
      return true;
    });
    // the addon is still usable after the error
    assert.deepEqual(Array.from((await matmul(a, b)).data as Float32Array), [-2, -2]);
  });

  it('rejects a malformed device string, naming it', () => {
    assert.throws(() => normalizeDevice('gpu0'), /Expected a device of the form 'cpu', 'cuda' or 'cuda:N' but received 'gpu0'/);
    assert.throws(() => normalizeDevice('cuda:-1'), /received 'cuda:-1'/);
    assert.equal(normalizeDevice('cpu'), 'cpu');
  });

  it('explains a CUDA device that this machine cannot use', function () {
    const { cuda } = runtimeInfo();
    if (cuda.available) {
      assert.equal(normalizeDevice('cuda'), 'cuda:0');
      assert.throws(() => normalizeDevice(`cuda:${cuda.deviceCount}`), /does not exist: \d+ CUDA device\(s\) visible/);
    } else {
      assert.throws(() => normalizeDevice('cuda:0'), (err: unknown) => {
        assert.ok(err instanceof DasError);
        assert.match(err.message, /Device 'cuda:0' is not available: this libtorch has no usable CUDA/);
        return true;
      });
    }
  });

  it('rejects invalid native options with the option named', async () => {
    await assert.rejects(timeGemm({ n: 0 }), /Expected an integer >= 1 for n but received 0/);
  });

  it('keeps the process alive through a burst of native failures', () => {
    // A separate process, so that a crash (abort, segfault) would show as its exit status.
    const script = `
      import { matmul, echoTensor } from ${JSON.stringify(path.join(repoRoot, 'dist/lib/index.js'))};
      const bad = { dtype: 'float32', shape: [2, 3], data: new Float32Array(6) };
      let failures = 0;
      for (let i = 0; i < 50; i++) {
        await matmul(bad, bad).catch(() => failures++);
        await echoTensor({ dtype: 'bool', shape: [1], data: new Uint8Array([7]) }).catch(() => failures++);
      }
      const ok = await matmul(bad, { dtype: 'float32', shape: [3, 1], data: new Float32Array(3) });
      console.log(JSON.stringify({ failures, ok: ok.shape }));
    `;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(child.status, 0, child.stderr);
    assert.equal(child.signal, null);
    assert.deepEqual(JSON.parse(child.stdout.trim()), { failures: 100, ok: [2, 1] });
  });
});
