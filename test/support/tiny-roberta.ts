/** A tiny "pre-trained" RoBERTa checkpoint folder and synthetic SST-2 data, in the real formats. */
import path from 'node:path';
import { generateSyntheticDataset } from '../../lib/data/index.js';
import { writeRandomRobertaCheckpoint } from '../../lib/models/random-checkpoint.js';

export interface TinySetup {
  checkpoint: string;
  data: string;
}

export async function makeTinyRobertaSetup(root: string, options: { layers?: number; examples?: number } = {}): Promise<TinySetup> {
  const checkpoint = await writeRandomRobertaCheckpoint(path.join(root, 'checkpoint'), { hidden: 32, layers: options.layers ?? 4, heads: 4, intermediate: 64, maxPositions: 40 });
  const data = path.join(root, 'data');
  await generateSyntheticDataset({ task: 'sst2', dir: data, size: options.examples ?? 48, seed: 3 });
  return { checkpoint, data };
}
