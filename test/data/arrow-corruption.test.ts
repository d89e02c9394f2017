import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { encodeArrowFile, VQA_COLUMNS, type VqaArrowRow } from '../../lib/data/synthetic/arrow-writers.js';
import { tempDir } from './helpers.js';

const row = (i: number): VqaArrowRow => ({
  image: new Uint8Array(6 + i).fill(i),
  questions: [`question ${i}`],
  answers: [['yes', 'no']],
  answerLabels: [[0, 1]],
  answerScores: [[0.6, 0.3]],
  imageId: i,
  questionIds: [10 + i],
  split: 'val',
});

describe('data/arrow metadata corruption', function () {
  this.timeout(600_000);

  it('every absurd length, offset or count in the footer or a batch message is refused naming the file, never hangs', async () => {
    const { dir, cleanup } = tempDir('arrow-sweep');
    const bytes = encodeArrowFile(VQA_COLUMNS, [0, 1, 2].map(row), { rowsPerBatch: 2 });
    try {
      const result = await new Promise<{ tally?: { cases: number; read: number; refused: number; other: string[] }; hung?: string }>((resolve, reject) => {
        const worker = new Worker(new URL('./arrow-corruption-sweep.js', import.meta.url), { workerData: { dir, bytes } });
        let last = Date.now();
        let current = 'start-up';
        // A corrupt length once made apache-arrow build billions of objects: a read may not take this long.
        const watchdog = setInterval(() => {
          if (Date.now() - last < 60_000) return;
          clearInterval(watchdog);
          void worker.terminate().then(() => resolve({ hung: current }));
        }, 1000);
        worker.on('message', (m: { heartbeat?: string; tally?: never }) => {
          last = Date.now();
          if (m.heartbeat) current = m.heartbeat;
          else (clearInterval(watchdog), resolve(m));
        });
        worker.on('error', (e) => (clearInterval(watchdog), reject(e)));
      });
      assert.equal(result.hung, undefined, `reading the file with ${result.hung} never finished`);
      const { cases, read, refused, other } = result.tally!;
      assert.deepEqual(other, [], 'every failure is a DasError naming the file');
      assert.ok(cases > 1000 && refused > cases / 2, `${cases} cases, ${read} read, ${refused} refused`);
    } finally {
      cleanup();
    }
  });
});
