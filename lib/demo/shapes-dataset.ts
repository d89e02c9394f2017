/**
 * The demo's vision-language task: pictures of one coloured shape, and questions about its colour,
 * size and side, written as ViLT's VQAv2 Arrow files (the real format, through the real readers).
 * Answering "is it left" needs where the shape is, so the model's attention layers matter.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { createRng, type Rng } from '../data/random.js';
import { VQA_COLUMNS, writeArrowFile, type VqaArrowRow } from '../data/synthetic/arrow-writers.js';

export const SHAPE_ANSWERS = ['red', 'blue', 'green', 'yes', 'no'] as const;

const COLORS = { red: '#d62728', blue: '#1f77b4', green: '#2ca02c' } as const;

interface Scene {
  color: keyof typeof COLORS;
  big: boolean;
  left: boolean;
}

async function drawScene(scene: Scene, size: number, rng: Rng): Promise<Uint8Array> {
  const radius = (scene.big ? 0.22 : 0.11) * size;
  const cx = (scene.left ? 0.25 : 0.75) * size + (rng.next() - 0.5) * 0.1 * size;
  const cy = (0.3 + 0.4 * rng.next()) * size;
  const circle = rng.next() < 0.5;
  const shape = circle
    ? `<circle cx="${cx}" cy="${cy}" r="${radius}" fill="${COLORS[scene.color]}"/>`
    : `<rect x="${cx - radius}" y="${cy - radius}" width="${2 * radius}" height="${2 * radius}" fill="${COLORS[scene.color]}"/>`;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}"><rect width="100%" height="100%" fill="#808080"/>${shape}</svg>`;
  return new Uint8Array(await sharp(Buffer.from(svg)).png().toBuffer());
}

function question(scene: Scene, kind: number): [string, (typeof SHAPE_ANSWERS)[number]] {
  if (kind === 0) return ['what color is it ?', scene.color];
  if (kind === 1) return ['is it big ?', scene.big ? 'yes' : 'no'];
  return ['is it left ?', scene.left ? 'yes' : 'no'];
}

/**
 * Writes vqav2_train, vqav2_trainable_val and vqav2_rest_val .arrow files (ViLT's VQA splits) with
 * `images` pictures per file and three questions per picture. Returns the folder.
 */
export async function writeShapesDataset(dir: string, options: { images: number; size: number; seed: number }): Promise<string> {
  await mkdir(dir, { recursive: true });
  const rng = createRng(options.seed);
  let questionId = 1;
  for (const [s, split] of ['train', 'trainable_val', 'rest_val'].entries()) {
    const rows: VqaArrowRow[] = [];
    for (let i = 0; i < options.images; i++) {
      const scene: Scene = { color: (['red', 'blue', 'green'] as const)[Math.floor(rng.next() * 3)]!, big: rng.next() < 0.5, left: rng.next() < 0.5 };
      const asked = [0, 1, 2].map((kind) => question(scene, kind));
      rows.push({
        image: await drawScene(scene, options.size, rng),
        questions: asked.map(([q]) => q),
        answers: asked.map(([, a]) => [a]),
        answerLabels: asked.map(([, a]) => [SHAPE_ANSWERS.indexOf(a)]),
        answerScores: asked.map(() => [1]),
        imageId: s * 100000 + i,
        questionIds: asked.map(() => questionId++),
        split: split === 'train' ? 'train' : 'val',
      });
    }
    await writeArrowFile(path.join(dir, `vqav2_${split}.arrow`), VQA_COLUMNS, rows, { rowsPerBatch: 64 });
  }
  return dir;
}
