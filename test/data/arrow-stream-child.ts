/**
 * Run by arrow.test.ts in its own process (node --expose-gc) so the measurement is not disturbed by
 * the test runner's heap: streams every image of an Arrow file and reports the peak RSS growth.
 */
import { ArrowIpcFile } from '../../lib/data/arrow-file.js';
import { readImageBytes } from '../../lib/data/image-source.js';

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const file = await ArrowIpcFile.open(process.argv[2]!);
gc();
const baseline = process.memoryUsage().rss;
let peak = baseline;
let rows = 0;
let mismatches = 0;
for (let b = 0; b < file.numBatches; b++) {
  const questions = await file.readColumn(b, 'questions');
  const refs = await file.binaryRefs(b, 'image');
  for (const ref of refs) {
    const bytes = await readImageBytes(ref!);
    if (bytes[0] !== rows % 251 || bytes[bytes.length - 1] !== rows % 251) mismatches++;
    rows++;
    if (rows % 4 === 0) gc();
    peak = Math.max(peak, process.memoryUsage().rss);
  }
  if (questions.length !== refs.length) mismatches++;
}
await file.close();
process.stdout.write(JSON.stringify({ rows, mismatches, growth: peak - baseline }));
