/**
 * Checkpoint folders with random weights in the real layouts (config.json, model.safetensors,
 * tokenizer.json): RoBERTa with HuggingFace fields, ViLT with HuggingFace ViLT fields, METER with
 * das-torch's METER config.json. For tests, benchmarks and the demo, which cannot download
 * pre-trained weights.
 */
import fs from 'node:fs';
import path from 'node:path';
import { TextTokenizer } from '../data/tokenizer.js';
import { writeTinyTokenizer } from '../data/synthetic/tiny-tokenizers.js';
import { writeSafetensors } from '../native/checkpoint.js';
import { Model } from './model.js';
import { meterConfigToJson, type MeterConfig } from './meter-config.js';
import { withoutAdapters } from './pretrained-any.js';
import { ROBERTA_BASE, type RobertaConfig } from './roberta-config.js';
import { viltConfigToHf, type ViltConfig } from './vilt-config.js';

export type RandomRobertaShape = Pick<RobertaConfig, 'hidden' | 'layers' | 'heads' | 'intermediate'> & Partial<RobertaConfig>;

/**
 * Writes the folder with the tiny byte-level BPE tokenizer. The vocabulary follows the tokenizer
 * unless `shape.vocabSize` is larger. With `head`, a (random) classification head is included, as in
 * a fine-tuned RobertaForSequenceClassification checkpoint.
 */
export async function writeRandomRobertaCheckpoint(dir: string, shape: RandomRobertaShape, seed = 42, head = false): Promise<string> {
  fs.mkdirSync(dir, { recursive: true });
  const tokenizer = await TextTokenizer.load(await writeTinyTokenizer(dir, 'bpe'));
  const config: RobertaConfig = { ...ROBERTA_BASE, maxPositions: 66, numLabels: 2, ...shape, vocabSize: Math.max(shape.vocabSize ?? 0, tokenizer.vocabSize), padTokenId: tokenizer.padId };
  const hf = {
    model_type: 'roberta', vocab_size: config.vocabSize, hidden_size: config.hidden, num_hidden_layers: config.layers, num_attention_heads: config.heads,
    intermediate_size: config.intermediate, max_position_embeddings: config.maxPositions, type_vocab_size: 1, pad_token_id: config.padTokenId,
    layer_norm_eps: config.layerNormEps, hidden_dropout_prob: config.hiddenDropout, attention_probs_dropout_prob: config.attentionDropout,
    num_labels: config.numLabels,
  };
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(hf, null, 2));
  const model = await Model.create('roberta', config, { seed });
  const state = await model.state('all');
  const kept = new Set(model.parameters().filter((p) => p.role === 'pretrained' || (head && p.role === 'head')).map((p) => p.name));
  const backbone = Object.fromEntries(Object.entries(state).filter(([name]) => kept.has(name)));
  await writeSafetensors(path.join(dir, 'model.safetensors'), backbone);
  return dir;
}

/**
 * A published ViLT or METER model with random weights and its task head (a fine-tuned checkpoint:
 * no adapters, no token4classifier), with the tiny tokenizer of its kind (WordPiece for ViLT,
 * byte-level BPE for METER).
 */
export async function writeRandomVlCheckpoint(dir: string, architecture: 'vilt' | 'meter', config: ViltConfig | MeterConfig, seed = 42): Promise<string> {
  fs.mkdirSync(dir, { recursive: true });
  await writeTinyTokenizer(dir, architecture === 'vilt' ? 'wordpiece' : 'bpe');
  const model = await Model.create(architecture, withoutAdapters(architecture, config), { seed });
  try {
    const vqa = config.task === 'vqa' ? { architectures: ['ViltForQuestionAnswering'], num_labels: config.numAnswers } : {};
    const json = architecture === 'vilt' ? { ...viltConfigToHf(config as ViltConfig), ...vqa } : meterConfigToJson(config as MeterConfig);
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(json, null, 2));
    await writeSafetensors(path.join(dir, 'model.safetensors'), await model.state('all'));
  } finally {
    await model.dispose();
  }
  return dir;
}
