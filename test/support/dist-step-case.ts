/**
 * One optimizer step of a tiny RoBERTa or ViLT (dropout off, random weights, a skipped layer), on
 * a batch of 4 examples and on its two halves: what a 2-rank step and a one-process step over the
 * concatenated batch must agree on. Each half is padded to its own length, as a rank's batch is.
 */
import { Prng } from '../../lib/das/prng.js';
import type { HostTensor } from '../../lib/host-tensor.js';
import type { Model } from '../../lib/models/model.js';
import { ROBERTA_BASE, type RobertaConfig } from '../../lib/models/roberta-config.js';
import { randomFloat32 } from './tensors.js';
import { imageBatch, randomImage, randomModel, textBatch, TINY_VILT, type Batch } from './vl.js';

export type StepArchitecture = 'roberta' | 'vilt';
export const SKIP = ['En1'];
export const LR = 1e-3;
export const HEAD_LR_MULTIPLIER = 10;

const TINY_ROBERTA: RobertaConfig = { ...ROBERTA_BASE, vocabSize: 60, hidden: 32, layers: 3, heads: 4, intermediate: 48, maxPositions: 20, numLabels: 3, adapterBottleneck: 4, skipBottleneck: 6, hiddenDropout: 0, attentionDropout: 0 };

/** Rows from..to of a [N, ...] tensor; `length` cuts [N, L] token rows to their first `length` entries. */
function sliceRows(tensor: HostTensor, from: number, to: number, length?: number): HostTensor {
  const [, ...rest] = tensor.shape;
  const width = rest.reduce((a, b) => a * b, 1);
  if (length === undefined) return { ...tensor, shape: [to - from, ...rest], data: tensor.data.slice(from * width, to * width) } as HostTensor;
  const data = tensor.data.slice(0, (to - from) * length);
  for (let r = 0; r < to - from; r++) (data as BigInt64Array).set((tensor.data as BigInt64Array).subarray((from + r) * width, (from + r) * width + length), r * length);
  return { ...tensor, shape: [to - from, length], data } as HostTensor;
}

function textRows(text: Batch, lengths: number[], from: number, to: number): Batch {
  const length = Math.max(...lengths.slice(from, to));
  return Object.fromEntries(Object.entries(text).map(([name, tensor]) => [name, sliceRows(tensor, from, to, length)]));
}

export async function stepCase(arch: StepArchitecture): Promise<{ model: Model; full: Batch; halves: [Batch, Batch] }> {
  const prng = new Prng(5);
  if (arch === 'roberta') {
    const lengths = [7, 5, 6, 3];
    const text = textBatch(lengths, 7, prng, TINY_ROBERTA.vocabSize, 1);
    const labels: HostTensor = { dtype: 'int64', shape: [4], data: BigInt64Array.from([0n, 2n, 1n, 2n]) };
    const half = (from: number, to: number): Batch => ({ ...textRows(text, lengths, from, to), labels: sliceRows(labels, from, to) });
    const { model } = await randomModel('roberta', TINY_ROBERTA, 11);
    return { model, full: { ...text, labels }, halves: [half(0, 2), half(2, 4)] };
  }
  const config = { ...TINY_VILT, dropout: 0 };
  const lengths = [6, 4, 5, 3];
  const text = textBatch(lengths, 6, prng, config.vocabSize, 0);
  const images = [randomImage(24, 40, prng), randomImage(32, 24, prng), randomImage(16, 32, prng), randomImage(24, 24, prng)];
  const targets = randomFloat32([4, config.numAnswers], prng, 0.5);
  targets.data.forEach((v, i) => (targets.data[i] = Math.abs(v)));
  const half = (from: number, to: number): Batch => ({ ...textRows(text, lengths, from, to), ...imageBatch(images.slice(from, to)), targets: sliceRows(targets, from, to) });
  const { model } = await randomModel('vilt', config, 11);
  return { model, full: { ...text, ...imageBatch(images), targets }, halves: [half(0, 2), half(2, 4)] };
}
