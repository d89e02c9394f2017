/**
 * One rank of test/dist/world.test.ts: joins the job from torchrun's variables and runs a scenario
 * of World calls, printing what it saw as one JSON line.
 * A failure to join is printed the same way. usage: node dist-world-worker.js <collectives | fail-in-run | fail-in-agree>
 */
import { distEnvFrom } from '../../lib/dist/env.js';
import { joinWorld } from '../../lib/dist/world.js';
import { DasError } from '../../lib/errors.js';

const scenario = process.argv[2];
const report = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);
const world = await joinWorld({ env: distEnvFrom().env, device: 'cpu', timeoutSeconds: Number(process.env.TEST_DIST_TIMEOUT ?? 120) }).catch((error: DasError) => {
  report({ code: error.code, message: error.message });
  process.exit(1);
});

try {
  if (scenario === 'collectives') {
    // values whose float sum depends on the order: every rank must still get the same bits
    const mine = [0.1 * (world.rank + 1), 1e16 * (world.rank === 0 ? 1 : -1), world.rank === 2 ? 1 : 0];
    const sums = await world.sum(mine);
    const bytes = await world.gather(Uint8Array.from([world.rank, 7, world.rank * 2]));
    const shared = await world.fromMain('a value', { from: world.rank });
    const big = await world.sumArray(Float32Array.from({ length: 5 }, (_, i) => (i % world.size === world.rank ? i + 0.5 : 0)));
    const agreed = await world.agree('to do nothing', () => world.rank * 10);
    report({ sums, bytes: bytes.map((b) => Array.from(b)), shared, big: Array.from(big), agreed, stats: world.stats() });
    await world.close();
  } else if (scenario === 'fail-in-run') {
    for (let i = 0; i < 5; i++) await world.sum([i]);
    if (world.rank === 1) throw new DasError('DAS_DATA', 'the training loss is NaN at step 5 (a test)');
    await world.sum([5]);
    report({ unexpected: 'the sum after the failure worked' });
  } else if (scenario === 'fail-in-agree') {
    await world.agree('to open the data', () => {
      if (world.rank === 1) throw new DasError('DAS_FILE', '/data/on/rank1 does not exist');
    });
    report({ unexpected: 'agree passed' });
  }
} catch (error) {
  await world.abort(error);
  const e = error as DasError;
  report({ code: e.code, message: e.message });
  process.exitCode = 1;
}
