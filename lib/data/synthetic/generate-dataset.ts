/**
 * Small datasets in each real format, for tests and the demo: the ViLT/METER Arrow files, the
 * official VQA v2 JSON + COCO folders, NLVR2 jsonl + image folders, Karpathy Flickr30k JSON +
 * image folder, and GLUE TSV. Texts use SYNTHETIC_WORDS so the tiny tokenizers cover them; images
 * are real JPEG/PNG files. Everything is a function of the seed.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { invalidArgument } from '../../errors.js';
import type { TaskName } from '../dataset-types.js';
import { createRng, type Rng } from '../random.js';
import { F30K_COLUMNS, NLVR2_COLUMNS, VQA_COLUMNS, writeArrowFile, type VqaArrowRow } from './arrow-writers.js';
import { encodeTinyImage } from './tiny-images.js';

export interface SyntheticDatasetConfig {
  task: TaskName;
  /** 'arrow' (ViLT/METER files) or 'official' (the original release layout); GLUE is always TSV. */
  format?: 'arrow' | 'official';
  dir: string;
  /** Images (VQA, Flickr30k), image pairs (NLVR2) or sentences (GLUE) per split. Default 12. */
  size?: number;
  seed?: number;
  /** Arrow rows per record batch. Default 4. */
  rowsPerBatch?: number;
  /** Image size. Default 48 x 40. */
  imageWidth?: number;
  imageHeight?: number;
}

/** The answers synthetic VQA data uses; label i is SYNTHETIC_ANSWERS[i]. */
export const SYNTHETIC_ANSWERS = ['yes', 'no', '2', 'red', 'blue', 'cat'] as const;

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[rng.int(xs.length)]!;
const QUESTIONS = ['what color is the car ?', 'how many dogs are there ?', 'is there a cat ?', 'what is on the tree ?', 'is the dog big ?'];
const CAPTIONS = ['a red car near a tree', 'two dogs play on the left', 'a small cat sits near a big tree', 'a person run near the blue car', 'the green tree on the right'];
const SENTENCES = ['the left image contains two dogs', 'the right image contains a red car', 'there is one cat in the image', 'a person sits near a tree'];

export async function generateSyntheticDataset(config: SyntheticDatasetConfig): Promise<string[]> {
  const size = config.size ?? 12;
  if (!Number.isInteger(size) || size < 2) throw invalidArgument('synthetic dataset size', 'an integer >= 2', size);
  await mkdir(config.dir, { recursive: true });
  const rng = createRng(config.seed ?? 1);
  const image = (seed: number, format: 'jpeg' | 'png' = 'jpeg') =>
    encodeTinyImage({ width: (config.imageWidth ?? 48) + (seed % 3) * 8, height: config.imageHeight ?? 40, format, seed });
  const format = config.format ?? 'arrow';
  const ctx: Ctx = { ...config, size, rng, image, files: [], format };
  switch (config.task) {
    case 'vqa':
      await (format === 'arrow' ? vqaArrow(ctx) : vqaOfficial(ctx));
      break;
    case 'nlvr2':
      await nlvr2(ctx);
      break;
    case 'irtr':
      await flickr(ctx);
      break;
    default:
      await glue(ctx, config.task);
  }
  return ctx.files;
}

type Ctx = SyntheticDatasetConfig & { size: number; rng: Rng; image: (seed: number, f?: 'jpeg' | 'png') => Promise<Buffer>; files: string[]; format: 'arrow' | 'official' };

async function out(ctx: Ctx, rel: string, data: string | Uint8Array): Promise<void> {
  const path = join(ctx.dir, rel);
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, data);
  ctx.files.push(path);
}

/** Ten annotator answers drawn around a majority answer, like real VQA annotations. */
function annotators(rng: Rng): string[] {
  const major = pick(rng, SYNTHETIC_ANSWERS);
  return Array.from({ length: 10 }, (_, i) => (i < 6 ? major : pick(rng, [...SYNTHETIC_ANSWERS, 'two', 'unknown'])));
}

function softLabels(answers: string[]): { labels: number[]; scores: number[]; names: string[] } {
  const counts = new Map<number, number>();
  for (const a of answers.map((x) => (x === 'two' ? '2' : x))) {
    const l = (SYNTHETIC_ANSWERS as readonly string[]).indexOf(a);
    if (l >= 0) counts.set(l, (counts.get(l) ?? 0) + 1);
  }
  const score = (n: number) => (n === 1 ? 0.3 : n === 2 ? 0.6 : n === 3 ? 0.9 : 1);
  return { labels: [...counts.keys()], scores: [...counts.values()].map(score), names: [...counts.keys()].map((l) => SYNTHETIC_ANSWERS[l]!) };
}

async function vqaArrow(ctx: Ctx): Promise<void> {
  const splits = ['train', 'val', 'trainable_val', 'rest_val', 'test', 'test-dev'];
  let qid = 1;
  for (const [s, split] of splits.entries()) {
    const rows: VqaArrowRow[] = [];
    for (let i = 0; i < ctx.size; i++) {
      const imageId = s * 1000 + i;
      const questions = [pick(ctx.rng, QUESTIONS), pick(ctx.rng, QUESTIONS)];
      const soft = questions.map(() => softLabels(annotators(ctx.rng)));
      const test = split.startsWith('test');
      rows.push({
        image: await ctx.image(imageId),
        questions,
        answers: test ? [] : soft.map((x) => x.names),
        answerLabels: test ? [] : soft.map((x) => x.labels),
        answerScores: test ? [] : soft.map((x) => x.scores),
        imageId,
        questionIds: questions.map(() => qid++),
        split: split.startsWith('test') ? split : split === 'train' ? 'train' : 'val',
      });
    }
    const path = join(ctx.dir, `vqav2_${split}.arrow`);
    await writeArrowFile(path, VQA_COLUMNS, rows, { rowsPerBatch: ctx.rowsPerBatch ?? 4 });
    ctx.files.push(path);
  }
}

async function vqaOfficial(ctx: Ctx): Promise<void> {
  let qid = 1;
  for (const subset of ['train2014', 'val2014', 'test2015', 'test-dev2015']) {
    const questions: unknown[] = [];
    const annotations: unknown[] = [];
    for (let i = 0; i < ctx.size; i++) {
      const imageId = (subset === 'test-dev2015' ? 2 : ['train2014', 'val2014', 'test2015'].indexOf(subset)) * 100000 + i + 1;
      const folder = subset === 'test-dev2015' ? 'test2015' : subset;
      if (subset !== 'test-dev2015') await out(ctx, join(folder, `COCO_${folder}_${String(imageId).padStart(12, '0')}.jpg`), await ctx.image(imageId));
      for (let q = 0; q < 2; q++) {
        const question_id = qid++;
        questions.push({ image_id: imageId, question: pick(ctx.rng, QUESTIONS), question_id });
        const answers = annotators(ctx.rng);
        annotations.push({
          question_id, image_id: imageId, question_type: 'what', answer_type: 'other', multiple_choice_answer: answers[0],
          answers: answers.map((answer, k) => ({ answer, answer_confidence: 'yes', answer_id: k + 1 })),
        });
      }
    }
    await out(ctx, `v2_OpenEnded_mscoco_${subset}_questions.json`, JSON.stringify({ task_type: 'Open-Ended', data_type: 'mscoco', data_subtype: subset, questions }));
    if (subset === 'train2014' || subset === 'val2014') await out(ctx, `v2_mscoco_${subset}_annotations.json`, JSON.stringify({ data_type: 'mscoco', data_subtype: subset, annotations }));
  }
}

async function nlvr2(ctx: Ctx): Promise<void> {
  for (const name of ['train', 'dev', 'test1']) {
    const rows = [];
    const lines: string[] = [];
    for (let i = 0; i < ctx.size; i++) {
      const prefix = `${name}-${i}-0`;
      const directory = String(i % 3);
      const [img0, img1] = [await ctx.image(i * 2 + 1, 'png'), await ctx.image(i * 2 + 2, 'png')];
      const sentences = [pick(ctx.rng, SENTENCES), pick(ctx.rng, SENTENCES)];
      const answers = sentences.map(() => (ctx.rng.next() < 0.5 ? 'True' : 'False'));
      rows.push({ image0: img0, image1: img1, questions: sentences, answers, identifier: prefix });
      sentences.forEach((sentence, k) => lines.push(JSON.stringify({ identifier: `${prefix}-${k}`, sentence, label: answers[k], ...(name === 'train' ? { directory } : {}) })));
      if (ctx.format === 'official') {
        const folder = name === 'train' ? join('images', 'train', directory) : name;
        await out(ctx, join(folder, `${prefix}-img0.png`), img0);
        await out(ctx, join(folder, `${prefix}-img1.png`), img1);
      }
    }
    if (ctx.format === 'arrow') {
      const path = join(ctx.dir, `nlvr2_${name}.arrow`);
      await writeArrowFile(path, NLVR2_COLUMNS, rows, { rowsPerBatch: ctx.rowsPerBatch ?? 4 });
      ctx.files.push(path);
    } else {
      await out(ctx, join('nlvr2', 'data', `${name}.json`), `${lines.join('\n')}\n`);
    }
  }
}

async function flickr(ctx: Ctx): Promise<void> {
  const images: Array<{ filename: string; split: string; sentences: Array<{ raw: string }> }> = [];
  for (const split of ['train', 'val', 'test']) {
    for (let i = 0; i < ctx.size; i++) {
      const filename = `${split}${1000 + i}.jpg`;
      images.push({ filename, split, sentences: Array.from({ length: 5 }, (_, k) => ({ raw: `${pick(ctx.rng, CAPTIONS)} ${SENTENCES[(i + k) % SENTENCES.length]}` })) });
    }
  }
  const bytes = await Promise.all(images.map((_, i) => ctx.image(500 + i)));
  if (ctx.format === 'arrow') {
    for (const split of ['train', 'val', 'test']) {
      const rows = images.flatMap((img, i) => (img.split === split ? [{ image: bytes[i]!, caption: img.sentences.map((s) => s.raw), imageId: img.filename, split }] : []));
      const path = join(ctx.dir, `f30k_caption_karpathy_${split}.arrow`);
      await writeArrowFile(path, F30K_COLUMNS, rows, { rowsPerBatch: ctx.rowsPerBatch ?? 4 });
      ctx.files.push(path);
    }
  } else {
    for (const [i, img] of images.entries()) await out(ctx, join('flickr30k-images', img.filename), bytes[i]!);
    await out(ctx, join('karpathy', 'dataset_flickr30k.json'), JSON.stringify({ dataset: 'flickr30k', images: images.map((img, i) => ({ ...img, imgid: i })) }));
  }
}

async function glue(ctx: Ctx, task: 'mnli' | 'sst2'): Promise<void> {
  if (task === 'mnli') {
    const header = 'index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\tsentence1_parse\tsentence2_parse\tsentence1\tsentence2\tlabel1\tgold_label';
    for (const file of ['train.tsv', 'dev_matched.tsv', 'dev_mismatched.tsv']) {
      const lines = [header];
      for (let i = 0; i < ctx.size; i++) {
        const label = pick(ctx.rng, ['entailment', 'neutral', 'contradiction']);
        const [s1, s2] = [pick(ctx.rng, CAPTIONS), pick(ctx.rng, SENTENCES)];
        lines.push([i, i, `${i}e`, 'fiction', '( x )', '( y )', '(ROOT x)', '(ROOT y)', s1, `"${s2}"`, label, label].join('\t'));
      }
      await out(ctx, join('MNLI', file), `${lines.join('\n')}\n`);
    }
  } else {
    for (const file of ['train.tsv', 'dev.tsv']) {
      const lines = ['sentence\tlabel'];
      for (let i = 0; i < ctx.size; i++) {
        const positive = ctx.rng.next() < 0.5;
        lines.push(`${positive ? 'a good movie' : 'this film was not good , it was bad'} ${pick(ctx.rng, ['!', '.', ''])}\t${positive ? 1 : 0}`);
      }
      await out(ctx, join('SST-2', file), `${lines.join('\n')}\n`);
    }
  }
}
