/**
 * Worker of arrow-corruption.test.ts: writes a VQA Arrow file with one 32-bit field of its
 * metadata (footer, record batch messages) overwritten, for every aligned position and a few
 * values that make lengths, offsets and counts absurd, and reads each through openVqaArrow. Posts
 * a heartbeat before each read (the test's watchdog catches a hang) and the tally at the end.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { Footer } from 'apache-arrow/ipc/metadata/file';
import { openVqaArrow } from '../../lib/data/arrow-datasets.js';

const { dir, bytes } = workerData as { dir: string; bytes: Uint8Array };
const VALUES = [0x10000000, 0xffffffff, 0x7fffffff, 0x00010000];

const footerLength = Buffer.from(bytes).readInt32LE(bytes.length - 10);
const footerStart = bytes.length - 10 - footerLength;
const footer = Footer.decode(bytes.subarray(footerStart, footerStart + footerLength));
const regions: [number, number][] = [[footerStart, footerStart + footerLength]];
for (let i = 0; i < footer.numRecordBatches; i++) {
  const block = footer.getRecordBatch(i)!;
  regions.push([block.offset, block.offset + block.metaDataLength]);
}

const tally = { cases: 0, read: 0, refused: 0, other: [] as string[] };
const file = join(dir, 'vqav2_val.arrow');
for (const [start, end] of regions) {
  for (let at = start; at + 4 <= end; at += 4) {
    for (const value of VALUES) {
      const corrupt = Buffer.from(bytes);
      corrupt.writeUInt32LE(value, at);
      writeFileSync(file, corrupt);
      parentPort!.postMessage({ heartbeat: `0x${value.toString(16)} at byte ${at}` });
      tally.cases++;
      try {
        await openVqaArrow(dir, 'val', 'meter', { numAnswers: 6 });
        tally.read++;
      } catch (error) {
        const named = error instanceof Error && error.name === 'DasError' && error.message.includes(file);
        if (named) tally.refused++;
        else tally.other.push(`0x${value.toString(16)} at byte ${at}: ${String(error)}`);
      }
    }
  }
}
parentPort!.postMessage({ tally });
