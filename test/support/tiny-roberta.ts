/** A tiny "pre-trained" RoBERTa checkpoint folder (config.json, model.safetensors, tokenizer.json) and synthetic GLUE data, in the real formats. */
import fs from 'node:fs';
import path from 'node:path';
import { generateSyntheticDataset, writeTinyTokenizer } from '../../lib/data/index.js';
import { TextTokenizer } from '../../lib/data/tokenizer.js';
import { Model } from '../../lib/models/model.js';
import { ROBERTA_BASE } from '../../lib/models/roberta-config.js';
import { writeSafetensors } from '../../lib/native/checkpoint.js';

export interface TinySetup {
  checkpoint: string;
  data: string;
}

export async function makeTinyRobertaSetup(root: string, options: { layers?: number; examples?: number } = {}): Promise<TinySetup> {
  const checkpoint = path.join(root, 'checkpoint');
  fs.mkdirSync(checkpoint, { recursive: true });
  const tokenizer = await TextTokenizer.load(await writeTinyTokenizer(checkpoint, 'bpe'));
  const layers = options.layers ?? 4;
  const hf = {
    model_type: 'roberta', vocab_size: tokenizer.vocabSize, hidden_size: 32, num_hidden_layers: layers, num_attention_heads: 4,
    intermediate_size: 64, max_position_embeddings: 40, type_vocab_size: 1, pad_token_id: tokenizer.padId, layer_norm_eps: 1e-5,
    hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1,
  };
  fs.writeFileSync(path.join(checkpoint, 'config.json'), JSON.stringify(hf));
  const model = await Model.create('roberta', { ...ROBERTA_BASE, vocabSize: hf.vocab_size, hidden: 32, layers, heads: 4, intermediate: 64, maxPositions: 40, padTokenId: tokenizer.padId, numLabels: 2 }, { seed: 42 });
  const state = await model.state('all');
  const backbone = Object.fromEntries(Object.entries(state).filter(([name]) => name.startsWith('roberta.') && !name.includes('_adapter.')));
  await writeSafetensors(path.join(checkpoint, 'model.safetensors'), backbone);
  const data = path.join(root, 'data');
  await generateSyntheticDataset({ task: 'sst2', dir: data, size: options.examples ?? 48, seed: 3 });
  return { checkpoint, data };
}
