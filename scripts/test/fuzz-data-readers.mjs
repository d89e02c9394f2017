#!/usr/bin/env node
// Coverage-guided fuzzing of the dataset readers, which are TypeScript: the ViLT/METER Arrow IPC
// files (VQA, NLVR2, Flickr30k), the NLVR2 JSON-lines release, predict's JSONL input and GLUE TSV.
//   node scripts/test/fuzz-data-readers.mjs [seconds per target, default 120] [target ...]
// (after `npm run build:ts`; targets: arrow-vqa arrow-nlvr2 arrow-f30k jsonl-nlvr2 jsonl-predict
// tsv-mnli tsv-sst2). Coverage comes from V8's own block coverage (the inspector's precise
// coverage, taken after every input): an input that reaches a new block of the readers, the Arrow
// and FlatBuffers libraries they call, or a block a new number of times (AFL-style buckets) joins
// the corpus. Mutations: bit and byte flips, interesting integers, chunk insert/erase/copy, splices
// of two inputs, format tokens, and line/field edits for the text formats. Seeds are files in the
// real formats from the package's own generators.
// A reader must either read a file or reject it with a DasError whose message names the file.
// Findings, kept in $DAS_FUZZ_DIR/data-findings/<date> (default .cache/fuzz): another kind of error
// (a TypeError deep in a parser), a DasError that does not name the file, an input that takes
// longer than 10 s (a hang), or one that kills the worker. Exit status 1 when there are findings.
// Why not Jazzer.js: its 4.0.0 prebuilt fuzzer needs glibc 2.38 (Debian 12 has 2.36), and the
// older releases download their binaries from GitHub at install time.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Session } from 'node:inspector/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const lib = (file) => import(pathToFileURL(path.join(root, 'dist/lib', file)).href);
const HANG_MS = 10_000;
const STARTUP_MS = 60_000;

/** Each target: its seed files (generated once), the file the input goes to, and the read. */
const TARGETS = {
  'arrow-vqa': { seed: { task: 'vqa', format: 'arrow' }, file: 'vqav2_val.arrow', read: async (d, dir) => (await d.openVqaArrow(dir, 'val', 'meter', { numAnswers: 6 })).examples.length },
  'arrow-nlvr2': { seed: { task: 'nlvr2', format: 'arrow' }, file: 'nlvr2_dev.arrow', read: async (d, dir) => (await d.openNlvr2Arrow(dir, 'val')).examples.length },
  'arrow-f30k': { seed: { task: 'irtr', format: 'arrow' }, file: 'f30k_caption_karpathy_test.arrow', read: async (d, dir) => (await d.openF30kArrow(dir, 'val')).texts.length },
  'jsonl-nlvr2': { seed: { task: 'nlvr2', format: 'official' }, file: 'nlvr2/data/dev.json', read: async (d, dir) => (await d.openNlvr2Official(dir, 'val')).examples.length },
  'jsonl-predict': {
    seed: null,
    file: 'inputs.jsonl',
    read: async (_d, dir, s) => s.readPredictInputs(path.join(dir, 'inputs.jsonl'), { required: ['text', 'image_0', 'image_1'], optional: ['text_pair'], model: 'ViLT NLVR2' }).length,
  },
  'tsv-mnli': { seed: { task: 'mnli' }, file: 'MNLI/dev_matched.tsv', read: async (d, dir) => (await d.openGlue(dir, 'mnli', 'val')).examples.length },
  'tsv-sst2': { seed: { task: 'sst2' }, file: 'SST-2/dev.tsv', read: async (d, dir) => (await d.openGlue(dir, 'sst2', 'val')).examples.length },
};

const TOKENS = [
  'ARROW1', '\uFEFF', '\t', '\n', '\r\n', '"', '\\', '{}', '[]', 'null', 'true', 'NaN', '1e400', '-1', '0', '2147483648', '"True"', '"False"',
  '"identifier"', '"sentence"', '"label"', '"directory"', '"text"', '"image_0"', '"image_1"', '"text_pair"', 'gold_label', 'sentence1', 'sentence2',
  'sentence', 'label', 'entailment', 'neutral', 'contradiction', 'questions', 'answers', 'answer_labels', 'answer_scores', 'image', 'caption', '\u0000',
].map((t) => Buffer.from(t, 'utf8'));
const INTERESTING = [0, 1, -1, 0x7f, 0x80, 0xff, 0x7fff, 0xffff, 0x7fffffff, -0x80000000, 0xffffffff];

function mutate(input, corpus, rand) {
  let bytes = Buffer.from(input);
  for (let n = 1 + rand(4); n > 0; n--) {
    const at = bytes.length > 0 ? rand(bytes.length) : 0;
    switch (rand(11)) {
      case 0: if (bytes.length) bytes[at] ^= 1 << rand(8); break;
      case 1: if (bytes.length) bytes[at] = rand(256); break;
      case 2: { // an interesting integer, little-endian, 1/2/4 bytes
        const width = [1, 2, 4][rand(3)];
        if (at + width <= bytes.length) bytes.writeIntLE(Math.max(Math.min(INTERESTING[rand(INTERESTING.length)], 2 ** (8 * width - 1) - 1), -(2 ** (8 * width - 1))), at, width);
        break;
      }
      case 3: { // erase a chunk
        const length = 1 + rand(Math.min(64, Math.max(1, bytes.length - at)));
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + length)]);
        break;
      }
      case 4: { // duplicate a chunk
        const length = 1 + rand(Math.min(64, Math.max(1, bytes.length - at)));
        bytes = Buffer.concat([bytes.subarray(0, at + length), bytes.subarray(at, at + length), bytes.subarray(at + length)]);
        break;
      }
      case 5: case 6: { // a token
        const token = TOKENS[rand(TOKENS.length)];
        bytes = rand(2) ? Buffer.concat([bytes.subarray(0, at), token, bytes.subarray(at)]) : Buffer.concat([bytes.subarray(0, at), token, bytes.subarray(at + token.length)]);
        break;
      }
      case 7: { // splice with another input
        const other = corpus[rand(corpus.length)];
        const from = rand(other.length + 1);
        bytes = Buffer.concat([bytes.subarray(0, at), other.subarray(from, from + 1 + rand(256))]);
        break;
      }
      case 8: case 9: { // a line or a field of a text format: drop, repeat or move it
        const sep = rand(2) ? 0x0a : 0x09;
        const parts = [];
        let start = 0;
        for (let i = 0; i <= bytes.length; i++) if (i === bytes.length || bytes[i] === sep) (parts.push(bytes.subarray(start, i)), (start = i + 1));
        if (parts.length < 2) break;
        const i = rand(parts.length);
        const j = rand(parts.length);
        if (rand(3) === 0) parts.splice(i, 1);
        else if (rand(2)) parts.splice(j, 0, parts[i]);
        else [parts[i], parts[j]] = [parts[j], parts[i]];
        bytes = Buffer.concat(parts.flatMap((p, k) => (k ? [Buffer.from([sep]), p] : [p])));
        break;
      }
      default: // truncate
        bytes = bytes.subarray(0, at);
    }
  }
  return bytes;
}

/** AFL's hit-count buckets: a block run a new number of times (order of magnitude) is new too. */
const bucket = (count) => (count <= 3 ? count : count <= 7 ? 4 : count <= 15 ? 5 : count <= 31 ? 6 : count <= 127 ? 7 : 8);

async function fuzz({ name, budget, dir, corpusDir, findingsDir, seedsDir }) {
  const target = TARGETS[name];
  const data = await lib('data/index.js');
  const serve = await lib('serve/predict-input.js');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
  const interesting = (url) => url.includes('/dist/lib/') || url.includes('/apache-arrow/') || url.includes('/flatbuffers/');
  const seen = new Set();
  const features = async () => {
    const { result } = await session.post('Profiler.takePreciseCoverage');
    const fresh = [];
    for (const script of result) {
      if (!interesting(script.url)) continue;
      for (const fn of script.functions) for (const r of fn.ranges) if (r.count > 0) {
        const key = `${script.url}:${r.startOffset}:${bucket(r.count)}`;
        if (!seen.has(key)) fresh.push(key);
      }
    }
    return fresh;
  };
  let state = 0x9e3779b9;
  const rand = (n) => ((state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) % Math.max(1, n));
  const inputPath = path.join(dir, target.file);
  fs.mkdirSync(path.dirname(inputPath), { recursive: true });
  const corpus = [];
  const stats = { execs: 0, findings: 0, read: 0, refused: 0 };
  const signatures = new Set();

  const runOne = async (bytes) => {
    fs.writeFileSync(inputPath, bytes);
    parentPort.postMessage({ running: true, stats });
    let problem;
    try {
      await target.read(data, dir, serve);
      stats.read++;
    } catch (error) {
      if (error?.name === 'DasError' && typeof error.message === 'string') {
        stats.refused++;
        const named = error.message.includes(target.file) || error.message.includes(path.basename(target.file));
        if (!named) problem = `a DasError that names no file: ${error.message}`;
      } else {
        problem = `${error?.name ?? typeof error}: ${error?.message ?? String(error)}\n${error?.stack ?? ''}`;
      }
    }
    stats.execs++;
    const fresh = await features();
    if (problem) {
      const id = createHash('sha1').update(bytes).digest('hex').slice(0, 16);
      // one finding per kind of error and place it is thrown from (not per value in the message)
      const signature = `${problem.split(':')[0]} ${problem.split('\n').find((l) => l.trim().startsWith('at ')) ?? problem.split('\n')[0]}`;
      if (!signatures.has(signature)) {
        signatures.add(signature);
        fs.writeFileSync(path.join(findingsDir, `${name}-${id}.input`), bytes);
        fs.writeFileSync(path.join(findingsDir, `${name}-${id}.txt`), `${problem}\n`);
        stats.findings++;
      }
    }
    if (fresh.length > 0) {
      for (const key of fresh) seen.add(key);
      corpus.push(bytes);
      fs.writeFileSync(path.join(corpusDir, createHash('sha1').update(bytes).digest('hex')), bytes);
    }
  };

  for (const folder of [seedsDir, corpusDir]) for (const file of fs.readdirSync(folder)) await runOne(fs.readFileSync(path.join(folder, file)));
  if (corpus.length === 0) corpus.push(Buffer.alloc(0));
  const end = Date.now() + budget * 1000;
  while (Date.now() < end) {
    // favour the newest inputs, which reached the newest code
    const parent = corpus[rand(3) === 0 ? corpus.length - 1 - rand(Math.min(8, corpus.length)) : rand(corpus.length)];
    await runOne(mutate(parent, corpus, rand));
  }
  return { ...stats, corpus: fs.readdirSync(corpusDir).length, features: seen.size };
}

async function makeSeeds(name, seedsDir) {
  const target = TARGETS[name];
  fs.mkdirSync(seedsDir, { recursive: true });
  if (fs.readdirSync(seedsDir).length > 0) return;
  if (target.seed === null) {
    const lines = ['{"text": "the left image has two dogs", "image_0": "a.png", "image_1": "b.png"}', '', '{"text": "a cat", "text_pair": "b", "image_0": "x/c.jpg", "image_1": "/d.png"}'];
    fs.writeFileSync(path.join(seedsDir, 'inputs.jsonl'), `${lines.join('\n')}\n`);
    return;
  }
  const data = await lib('data/index.js');
  const scratch = fs.mkdtempSync(path.join(seedsDir, '..', `${name}-gen-`));
  for (const size of [2, 5]) {
    await data.generateSyntheticDataset({ ...target.seed, dir: scratch, size, seed: size, rowsPerBatch: 2 });
    fs.copyFileSync(path.join(scratch, target.file), path.join(seedsDir, `seed-${size}`));
  }
  fs.rmSync(scratch, { recursive: true });
}

async function main() {
  const args = process.argv.slice(2);
  const budget = args[0] && /^\d+$/.test(args[0]) ? Number(args.shift()) : 120;
  const names = args.length > 0 ? args : Object.keys(TARGETS);
  for (const n of names) if (!TARGETS[n]) throw new Error(`unknown target ${n}; known: ${Object.keys(TARGETS).join(', ')}`);
  const work = path.resolve(process.env.DAS_FUZZ_DIR ?? path.join(root, '.cache/fuzz'));
  const findingsDir = path.join(work, 'data-findings', new Date().toISOString().replace(/[:.]/g, '-'));
  fs.mkdirSync(findingsDir, { recursive: true });
  let total = 0;
  for (const name of names) {
    const seedsDir = path.join(work, 'data-seeds', name);
    const corpusDir = path.join(work, 'data-corpus', name);
    fs.mkdirSync(corpusDir, { recursive: true });
    await makeSeeds(name, seedsDir);
    const dir = fs.mkdtempSync(path.join(work, `run-${name}-`));
    // A hang ends the worker; a new one goes on with the rest of the budget (from the corpus so far).
    const summary = { execs: 0, corpus: 0, features: 0, read: 0, refused: 0, restarts: 0 };
    const deadline = Date.now() + budget * 1000;
    while (deadline - Date.now() > 1000) {
      const result = await new Promise((resolve) => {
        const worker = new Worker(fileURLToPath(import.meta.url), { workerData: { name, budget: (deadline - Date.now()) / 1000, dir, corpusDir, findingsDir, seedsDir } });
        let last = Date.now() + STARTUP_MS; // loading the readers may take a while on a busy machine
        let progress = { execs: 0, read: 0, refused: 0 };
        let done;
        const watchdog = setInterval(() => {
          if (Date.now() - last < HANG_MS) return;
          clearInterval(watchdog);
          const id = `${name}-hang-${Date.now()}`;
          const input = path.join(dir, TARGETS[name].file);
          if (fs.existsSync(input)) fs.copyFileSync(input, path.join(findingsDir, `${id}.input`));
          fs.writeFileSync(path.join(findingsDir, `${id}.txt`), `no answer within ${HANG_MS / 1000} s (a hang)\n`);
          void worker.terminate();
        }, 1000);
        worker.on('message', (m) => (m.running ? ((last = Date.now()), (progress = m.stats)) : (done = m)));
        worker.on('error', (e) => fs.writeFileSync(path.join(findingsDir, `${name}-worker-${Date.now()}.txt`), `${e.stack}\n`));
        worker.on('exit', () => (clearInterval(watchdog), resolve(done ?? { ...progress, restarted: true })));
      });
      for (const key of ['execs', 'read', 'refused']) summary[key] += result[key] ?? 0;
      summary.corpus = fs.readdirSync(corpusDir).length;
      summary.features = Math.max(summary.features, result.features ?? 0);
      if (result.restarted) summary.restarts++;
      else break;
    }
    fs.rmSync(dir, { recursive: true, force: true });
    const found = fs.readdirSync(findingsDir).filter((f) => f.startsWith(`${name}-`) && f.endsWith('.txt')).length;
    total += found;
    console.log(`${name.padEnd(14)} execs ${String(summary.execs).padEnd(8)} corpus ${String(summary.corpus).padEnd(6)} features ${String(summary.features).padEnd(7)} read ${String(summary.read).padEnd(7)} refused ${String(summary.refused).padEnd(7)} findings ${found}${summary.restarts ? ` (${summary.restarts} restarts after hangs)` : ''}`);
  }
  console.log(`findings: ${total}${total ? ` (in ${findingsDir})` : ''}`);
  process.exit(total > 0 ? 1 : 0);
}

if (isMainThread) await main();
else parentPort.postMessage(await fuzz(workerData));
