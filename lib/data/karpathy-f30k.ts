/**
 * Flickr30k with Karpathy's split file: karpathy/dataset_flickr30k.json ({"images": [{filename,
 * split, sentences: [{raw}]}]}) beside the flickr30k-images/ folder. Train uses Karpathy train +
 * val (as ViLT's datamodule), val and test the 1k test images with their 5k captions.
 */
import { join } from 'node:path';
import { DasError } from '../errors.js';
import type { RetrievalDataset } from './dataset-types.js';
import { checkSplit } from './splits.js';
import { readJsonFile } from './vqa-official.js';

export const karpathyFile = (dir: string) => join(dir, 'karpathy', 'dataset_flickr30k.json');
export const flickrImagePath = (dir: string, filename: string) => join(dir, 'flickr30k-images', filename);

export async function openFlickr30kKarpathy(dir: string, split: string): Promise<RetrievalDataset> {
  checkSplit('irtr', split);
  const file = karpathyFile(dir);
  const wanted = split === 'train' ? new Set(['train', 'val']) : new Set(['test']);
  const ds: RetrievalDataset = { task: 'irtr', split, files: [file], images: [], texts: [] };
  for (const [i, raw] of ((await readJsonFile(file, 'images')) as Array<Record<string, unknown>>).entries()) {
    if (typeof raw?.filename !== 'string' || typeof raw.split !== 'string' || !Array.isArray(raw.sentences)) {
      throw new DasError('DAS_DATA', `Dataset file ${file}: image entry ${i} lacks filename, split or sentences`);
    }
    if (!wanted.has(raw.split)) continue;
    const path = flickrImagePath(dir, raw.filename);
    const texts = [...new Set((raw.sentences as Array<{ raw?: unknown }>).map((s) => String(s?.raw ?? '')))];
    const imageIndex = ds.images.length;
    ds.images.push({ imageId: raw.filename, image: { file: path, label: path }, captions: texts.map((_, k) => ds.texts.length + k) });
    for (const text of texts) ds.texts.push({ text, imageIndex });
  }
  return ds;
}
