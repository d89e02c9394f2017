import assert from 'node:assert/strict';
import { timeGemm } from '../../lib/index.js';

describe('async native calls', () => {
  it('leave the event loop free while libtorch computes', async () => {
    // About a second of GEMM work on a 2-core machine; timers must keep firing meanwhile. A
    // blocking call would let no timer run before the promise settles (ticks would be 0).
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    let ticksWhenDone = -1;
    try {
      await timeGemm({ n: 1024, iterations: 40, warmup: 0 }).then(() => (ticksWhenDone = ticks));
    } finally {
      clearInterval(timer);
    }
    assert.ok(ticksWhenDone >= 3, `only ${ticksWhenDone} timer ticks ran during the native call`);
  });

  it('run several calls concurrently, each settling with its own result', async () => {
    const sizes = [64, 128, 96];
    const results = await Promise.all(sizes.map((n) => timeGemm({ n, iterations: 2, warmup: 0 })));
    assert.deepEqual(results.map((r) => r.n), sizes);
    for (const result of results) assert.equal(result.seconds.length, 2);
  });
});
