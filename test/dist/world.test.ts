import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { collect, rankEnv, runRanks, type RankExit } from '../support/dist-job.js';
import { lastJsonLine, repoRoot } from '../support/repo.js';

const worker = path.join(repoRoot, 'dist/test/support/dist-world-worker.js');
const outcome = (r: RankExit) => lastJsonLine(r.stdout) as { code?: string; message?: string } & Record<string, unknown>;

describe('data parallel: the World of a job (3 ranks, Gloo on localhost)', function () {
  this.timeout(300_000);

  it('sums come out bit-identical on every rank; gather, rank 0 values, large sums and agreement', async () => {
    const ranks = await runRanks([worker, 'collectives'], { worldSize: 3 });
    for (const r of ranks) assert.equal(r.code, 0, `rank ${r.rank}: ${r.stderr}`);
    const seen = ranks.map(outcome);
    // summed in rank order from 0 on every rank (0.1 * 3 is 0.30000000000000004; 1e16 swallows 0.1)
    const expected = [0 + 0.1 + 0.2 + 0.1 * 3, 0 + 1e16 - 1e16 - 1e16, 1];
    for (const s of seen) {
      assert.deepEqual(s.sums, expected);
      assert.deepEqual(s.bytes, [[0, 7, 0], [1, 7, 2], [2, 7, 4]]);
      assert.deepEqual(s.shared, { from: 0 });
      assert.deepEqual(s.big, [0.5, 1.5, 2.5, 3.5, 4.5]);
      assert.ok((s.stats as { calls: number }).calls >= 3, 'collectives are counted');
    }
    assert.deepEqual(seen.map((s) => s.agreed), [0, 10, 20]);
  });

  it('a rank that fails stops the others at their next collective, which name it and give its reason', async () => {
    const ranks = await runRanks([worker, 'fail-in-run'], { worldSize: 3 });
    for (const r of ranks) assert.equal(r.code, 1, `rank ${r.rank} exits non-zero: ${r.stdout} ${r.stderr}`);
    assert.equal(outcome(ranks[1]!).code, 'DAS_DATA');
    for (const r of [ranks[0]!, ranks[2]!]) {
      const { code, message } = outcome(r);
      assert.equal(code, 'DAS_DISTRIBUTED');
      assert.match(message!, /rank 1 stopped: the training loss is NaN at step 5 \(a test\)/);
    }
  });

  it('a failure while setting up (agree) fails every rank with that rank\'s error, before any collective', async () => {
    const ranks = await runRanks([worker, 'fail-in-agree'], { worldSize: 3 });
    for (const r of ranks) {
      const { code, message } = outcome(r);
      assert.equal(r.code, 1);
      assert.equal(code, 'DAS_FILE', `rank ${r.rank}`);
      assert.match(message!, r.rank === 1 ? /^\/data\/on\/rank1 does not exist$/ : /^rank 1 failed to open the data: \/data\/on\/rank1 does not exist$/);
    }
  });

  it('ranks that reach the rendezvous before rank 0 hosts it wait for it, and join', async () => {
    // rank 0 must not touch MASTER_PORT before its store listens there: an early rank would be accepted, then reset
    const ranks = await runRanks([worker, 'collectives'], { worldSize: 3, startDelays: [3000, 0, 0] });
    for (const r of ranks) assert.equal(r.code, 0, `rank ${r.rank}: ${r.stdout} ${r.stderr}`);
  });

  it('MASTER_PORT answered by a program that is not a rendezvous store: a named error, no crash', async () => {
    // one that hangs up at once, and one that greets first (as SSH or SMTP do)
    for (const greeting of ['', 'SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n']) {
      const foreign = net.createServer((socket) => {
        socket.on('data', () => undefined).on('error', () => undefined);
        socket.end(greeting);
      });
      await new Promise<void>((resolve) => foreign.listen(0, '127.0.0.1', resolve));
      try {
        const port = (foreign.address() as net.AddressInfo).port;
        const env = { ...process.env, ...rankEnv(1, 2, port), TEST_DIST_TIMEOUT: '3' };
        const rank1 = await collect(1, spawn(process.execPath, [worker, 'collectives'], { env }));
        assert.equal(rank1.signal, null, `no crash: ${rank1.stderr}`);
        assert.equal(rank1.code, 1, rank1.stderr);
        const { code, message } = outcome(rank1);
        assert.equal(code, 'DAS_DISTRIBUTED');
        // a greeting is caught before libtorch connects; otherwise libtorch 1.13 connects and then reads the program's bytes or
        // loses the connection, and 2.x checks the peer first and gives up at the timeout
        const where = `127\\.0\\.0\\.1:${port}`;
        if (greeting) {
          assert.equal(message, `rank 1 reached a program at 127.0.0.1:${port} that is not a rendezvous store (it greets with "SSH-2.0-OpenSSH_9.2p1 Debian-2"): does MASTER_PORT belong to another program?`);
        } else {
          assert.match(message!, new RegExp(`^rank 1 (reached a program at ${where} that is not a rendezvous store|lost the rendezvous store at ${where} while joining|cannot reach the rendezvous store of rank 0 at ${where} .*within 3 s)`));
        }
        assert.doesNotMatch(rank1.stderr, /socket\.cpp|terminate called/, 'libtorch\'s own log stays quiet');
      } finally {
        foreign.close();
      }
    }
  });
});
