import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { checkDataset } from '../../lib/data/check-dataset.js';
import { readImageBytes, imageReadLimits, DEFAULT_MAX_IMAGE_BYTES } from '../../lib/data/image-source.js';
import { createImagePreparer } from '../../lib/data/image-workers.js';
import { openTaskDataset } from '../../lib/data/open-dataset.js';
import { generateSyntheticDataset } from '../../lib/data/synthetic/generate-dataset.js';
import { TextTokenizer } from '../../lib/data/tokenizer.js';
import { DasError } from '../../lib/errors.js';
import { readPredictInputs } from '../../lib/serve/predict-input.js';
import { withDeadline } from '../../lib/util/regular-file.js';
import { rejectsDas, tempDir } from './helpers.js';

const mkfifo = (path: string) => assert.equal(spawnSync('mkfifo', [path]).status, 0, `mkfifo ${path}`);

describe('reads never hang: only regular files, a size cap, a deadline', function () {
  this.timeout(30_000); // each case must end at once; a hang fails here instead of stalling the suite
  let dir: string;
  let cleanup: () => void;
  let socketServer: net.Server;
  let socketPath: string;
  before(async () => {
    ({ dir, cleanup } = tempDir('nonregular'));
    socketPath = join(dir, 'image.sock');
    socketServer = net.createServer().listen(socketPath);
    await new Promise((resolve) => socketServer.once('listening', resolve));
  });
  after(() => {
    socketServer.close();
    cleanup();
  });

  describe('image paths', () => {
    const cases: [string, () => string, string][] = [
      ['/dev/zero (a device that never ends)', () => '/dev/zero', 'is a character device, not a regular file'],
      ['/dev/null', () => '/dev/null', 'is a character device'],
      ['a FIFO no one writes to', () => {
        const fifo = join(dir, 'image.fifo');
        mkfifo(fifo);
        return fifo;
      }, 'is a FIFO (named pipe), not a regular file'],
      ['a folder', () => {
        mkdirSync(join(dir, 'image-folder'));
        return join(dir, 'image-folder');
      }, 'is a folder, not a regular file'],
      ['a Unix socket', () => socketPath, 'is a socket, not a regular file'],
      ['a symlink to /dev/zero', () => {
        symlinkSync('/dev/zero', join(dir, 'zero.jpg'));
        return join(dir, 'zero.jpg');
      }, 'is a character device'],
      ['a missing file', () => join(dir, 'missing.jpg'), 'does not exist or cannot be read'],
    ];
    for (const [what, make, message] of cases) {
      it(what, async () => {
        const file = make();
        await rejectsDas(() => readImageBytes({ file, label: file }), 'DAS_FILE', file, message);
      });
    }

    it('through the worker-thread pool and the inline preparer alike', async () => {
      for (const threads of [0, 1]) {
        const preparer = createImagePreparer({ threads });
        try {
          await rejectsDas(() => preparer.prepare({ file: '/dev/zero', label: 'input 3 (image)' }, { kind: 'vilt', size: 32 }, 0), 'DAS_FILE', 'input 3 (image)', 'is a character device');
        } finally {
          await preparer.close();
        }
      }
    });

    it('an image larger than the cap is refused, whole file or Arrow byte range', async () => {
      const file = join(dir, 'big.jpg');
      writeFileSync(file, Buffer.alloc(2048));
      const limits = { maxBytes: 1024, timeoutMs: 10_000 };
      await rejectsDas(() => readImageBytes({ file, label: file }, limits), 'DAS_FILE', 'is 2048 bytes, more than the 1024-byte limit', 'DAS_MAX_IMAGE_BYTES');
      await rejectsDas(() => readImageBytes({ file, offset: 0, length: 1 << 30, label: 'v.arrow row 3' }, limits), 'DAS_FILE', 'v.arrow row 3', 'more than the 1024-byte limit');
      assert.equal((await readImageBytes({ file, offset: 8, length: 1000, label: 'x' }, limits)).length, 1000);
    });

    it('the cap and the deadline are read from the environment, and checked', () => {
      assert.deepEqual(imageReadLimits({}), { maxBytes: DEFAULT_MAX_IMAGE_BYTES, timeoutMs: 120_000 });
      assert.deepEqual(imageReadLimits({ DAS_MAX_IMAGE_BYTES: '1000', DAS_IMAGE_READ_TIMEOUT: '2.5' }), { maxBytes: 1000, timeoutMs: 2500 });
      for (const bad of ['0', '-1', 'lots', 'NaN']) {
        assert.throws(() => imageReadLimits({ DAS_MAX_IMAGE_BYTES: bad }), /Expected a positive number for DAS_MAX_IMAGE_BYTES/);
        assert.throws(() => imageReadLimits({ DAS_IMAGE_READ_TIMEOUT: bad }), /Expected a positive number for DAS_IMAGE_READ_TIMEOUT/);
      }
    });

    it('a read that does not finish by its deadline is an error (the stuck read is left behind)', async () => {
      await assert.rejects(withDeadline(new Promise(() => {}), 50, () => 'Image x could not be read within 0.05 s'), (e: unknown) => e instanceof DasError && e.code === 'DAS_FILE' && /within 0\.05 s/.test(e.message));
      assert.equal(await withDeadline(Promise.resolve(7), 50, () => 'late'), 7);
    });
  });

  describe('dataset, input and tokenizer files', () => {
    it('a GLUE TSV, an Arrow file and an NLVR2 annotation file that are FIFOs', async () => {
      const glue = join(dir, 'glue');
      mkdirSync(join(glue, 'SST-2'), { recursive: true });
      mkfifo(join(glue, 'SST-2', 'train.tsv'));
      await rejectsDas(() => openTaskDataset({ task: 'sst2', data: glue }), 'DAS_FILE', 'train.tsv is a FIFO');
      const arrow = join(dir, 'arrow');
      mkdirSync(arrow);
      mkfifo(join(arrow, 'nlvr2_train.arrow'));
      await rejectsDas(() => openTaskDataset({ task: 'nlvr2', data: arrow }), 'DAS_FILE', 'nlvr2_train.arrow is a FIFO');
      const nlvr = join(dir, 'nlvr');
      mkdirSync(join(nlvr, 'nlvr2', 'data'), { recursive: true });
      mkfifo(join(nlvr, 'nlvr2', 'data', 'dev.json'));
      await rejectsDas(() => openTaskDataset({ task: 'nlvr2', data: nlvr, split: 'val', format: 'official' }), 'DAS_FILE', 'dev.json is a FIFO');
    });

    it('a predict input file and a tokenizer.json that are FIFOs', async () => {
      const input = join(dir, 'inputs.jsonl');
      mkfifo(input);
      assert.throws(() => readPredictInputs(input, { required: ['text'], optional: [], model: 'RoBERTa' }), /Input file .*inputs\.jsonl is a FIFO/);
      const tokenizer = join(dir, 'tokenizer.json');
      mkfifo(tokenizer);
      await rejectsDas(() => TextTokenizer.load(tokenizer), 'DAS_FILE', 'tokenizer.json is a FIFO');
    });

    it('data check names an image path that is a device or a FIFO, instead of calling it missing', async () => {
      const data = join(dir, 'nlvr2-official');
      await generateSyntheticDataset({ task: 'nlvr2', format: 'official', dir: data, size: 2 });
      const report = await checkDataset({ task: 'nlvr2', data, splits: ['val'], imageSample: 0 });
      assert.equal(report.ok, true, JSON.stringify(report.problems));
      const ds = await openTaskDataset({ task: 'nlvr2', data, split: 'val' });
      const [first, second] = ds.task === 'nlvr2' ? ds.examples[0]!.images : [];
      spawnSync('rm', [first!.file, second!.file]);
      mkfifo(first!.file);
      symlinkSync('/dev/zero', second!.file);
      const broken = await checkDataset({ task: 'nlvr2', data, splits: ['val'], imageSample: 64 });
      assert.equal(broken.ok, false);
      const messages = broken.problems.map((p) => `${p.file}: ${p.message}`).join('\n');
      assert.match(messages, new RegExp(`${first!.file}: image file is a FIFO \\(named pipe\\), not a regular file`));
      assert.match(messages, new RegExp(`${second!.file}: image file is a character device`));
    });
  });
});
