import assert from 'node:assert/strict';
import { Prng } from '../../lib/das/prng.js';
import { DasError } from '../../lib/errors.js';
import type { HostTensor } from '../../lib/host-tensor.js';
import { Model } from '../../lib/models/model.js';
import { viltBuiltParams, viltFlops } from '../../lib/models/vl-flops.js';
import { maxRelativeError, randomFloat32, randomScores } from '../support/tensors.js';
import { TINY_VILT, imageBatch, pythonLogits, randomImage, randomModel, rowsOf, sameBytes, textBatch, type Batch } from '../support/vl.js';

const tiny = TINY_VILT;

const prng = new Prng(42);
// two rows: a full text and a padded one; two images of different sizes padded to 32x40
const text = textBatch([6, 4], 6, prng, tiny.vocabSize, 0);
const imageA = randomImage(24, 40, prng);
const imageB = randomImage(32, 24, prng);
const vqaBatch: Batch = { ...text, ...imageBatch([imageA, imageB]), targets: randomScores([2, 7], prng) };

function float(values: number[], shape: number[]): HostTensor<'float32'> {
  return { dtype: 'float32', shape, data: Float32Array.from(values) };
}

describe('ViLT (native)', () => {
  for (const skip of [[], ['En1'], ['En0', 'En2']]) {
    it(`VQA matches an independent PyTorch computation of the original code path, skip [${skip.join(',')}]`, async () => {
      const { model, state } = await randomModel('vilt', tiny, 7);
      const ours = await model.evalStep(vqaBatch, { skip, logits: true });
      const expected = pythonLogits('vilt_reference.py', state, vqaBatch, { config: tiny, skip });
      assert.deepEqual(ours.logits!.shape, [2, 7]);
      const error = maxRelativeError(ours.logits!.data, expected);
      assert.ok(error < 1e-5, `relative error ${error}`);
    });
  }

  it('NLVR2 (two passes, image types 1 and 2) and retrieval (rank scores per group) match the reference', async () => {
    const nlvr2 = { ...tiny, task: 'nlvr2' as const };
    const pair: Batch = { ...text, ...imageBatch([imageA, imageB], '', { width: 40, height: 32 }), ...imageBatch([imageB, imageA], '_1', { width: 40, height: 32 }) };
    const a = await randomModel('vilt', nlvr2, 3);
    const ours = (await a.model.evalStep(pair, { skip: ['En1'], logits: true })).logits!;
    assert.ok(maxRelativeError(ours.data, pythonLogits('vilt_reference.py', a.state, pair, { config: nlvr2, skip: ['En1'] })) < 1e-5);
    // differently padded pairs take two separate passes: the same result
    const unshared: Batch = { ...text, ...imageBatch([imageA, imageB]), ...imageBatch([imageB, imageA], '_1') };
    const separate = (await a.model.evalStep(unshared, { skip: ['En1'], logits: true })).logits!;
    assert.ok(maxRelativeError(separate.data, Array.from(ours.data)) < 1e-5);

    const irtr = { ...tiny, task: 'irtr' as const };
    const groups: Batch = { ...textBatch([5, 3, 6, 2, 4, 6], 6, prng, tiny.vocabSize, 0), ...imageBatch([imageA, imageB]) };
    const b = await randomModel('vilt', irtr, 4);
    const scores = (await b.model.evalStep(groups, { logits: true })).logits!;
    assert.deepEqual(scores.shape, [2, 3]);
    assert.ok(maxRelativeError(scores.data, pythonLogits('vilt_reference.py', b.state, groups, { config: irtr, skip: [] })) < 1e-5);
  });

  it('padded images and padded text give the real tokens the outputs they have unpadded', async () => {
    const { model } = await randomModel('vilt', tiny, 9);
    const padded = (await model.evalStep(vqaBatch, { logits: true })).logits!;
    // each example alone: its own image size, its own text length
    const aloneA = (await model.evalStep({ ...textBatch([6], 6, new Prng(42), tiny.vocabSize, 0), ...imageBatch([imageA]) }, { logits: true })).logits!;
    const textB = textBatch([6, 4], 6, new Prng(42), tiny.vocabSize, 0);
    const idsB: HostTensor<'int64'> = { dtype: 'int64', shape: [1, 4], data: (textB.input_ids!.data as BigInt64Array).slice(6, 10) };
    const aloneB = (await model.evalStep({ input_ids: idsB, ...imageBatch([imageB]) }, { logits: true })).logits!;
    assert.ok(maxRelativeError(Array.from(aloneA.data), rowsOf(padded, [0])) < 1e-5, 'image A padded to 32x40');
    assert.ok(maxRelativeError(Array.from(aloneB.data), rowsOf(padded, [1])) < 1e-5, 'image B and its 4-token text padded');
    // without pixel_mask the model falls back to the original's rule (real = not all-zero pixels),
    // which agrees here because the collate pads with exact zeros
    const { pixel_mask: _dropped, ...noMask } = vqaBatch;
    const fallback = (await model.evalStep(noMask, { logits: true })).logits!;
    assert.ok(maxRelativeError(fallback.data, Array.from(padded.data)) < 1e-6);
  });

  it('a skipped block is x + PA(x): its skip adapter changes the output, its frozen weights do not', async () => {
    const { model, state } = await randomModel('vilt', tiny, 5);
    const before = (await model.evalStep(vqaBatch, { skip: ['En1'], logits: true })).logits!;
    const frozen = 'transformer.blocks.1.mlp.fc1.weight';
    await model.loadState({ [frozen]: randomFloat32(state[frozen]!.shape, new Prng(99)) });
    assert.ok(sameBytes((await model.evalStep(vqaBatch, { skip: ['En1'], logits: true })).logits!, before));
    const adapter = 'transformer.blocks.1.skip_adapter.up.weight';
    await model.loadState({ [adapter]: randomFloat32(state[adapter]!.shape, new Prng(98)) });
    assert.ok(!sameBytes((await model.evalStep(vqaBatch, { skip: ['En1'], logits: true })).logits!, before));
    // with a zero skip adapter the block is the identity: the same as a model without that block
    await model.loadState({ [adapter]: float(new Array(state[adapter]!.data.length).fill(0), state[adapter]!.shape) });
    await model.loadState({ 'transformer.blocks.1.skip_adapter.up.bias': float(new Array(32).fill(0), [32]) });
    const shorter = await Model.create('vilt', { ...tiny, layers: 2 });
    const renamed: Record<string, HostTensor> = {};
    for (const [name, tensor] of Object.entries(await model.state('all'))) {
      const match = /^transformer\.blocks\.(\d+)\.(.*)$/.exec(name);
      if (!match) renamed[name] = tensor;
      else if (match[1] !== '1') renamed[`transformer.blocks.${match[1] === '2' ? 1 : 0}.${match[2]}`] = tensor;
    }
    await shorter.loadState(renamed, { strict: true, expect: 'all' });
    assert.deepEqual(
      Array.from((await model.evalStep(vqaBatch, { skip: ['En1'], logits: true })).logits!.data),
      Array.from((await shorter.evalStep(vqaBatch, { logits: true })).logits!.data),
    );
  });

  for (const task of ['vqa', 'nlvr2', 'irtr'] as const) {
    it(`${task}: gradients reach only trainable parameters in use; frozen weights never change`, async () => {
      const config = { ...tiny, task };
      const { model, state: before } = await randomModel('vilt', config, 11);
      const batch: Batch =
        task === 'vqa'
          ? vqaBatch
          : task === 'nlvr2'
            ? { ...text, ...imageBatch([imageA, imageB], '', { width: 40, height: 32 }), ...imageBatch([imageB, imageA], '_1', { width: 40, height: 32 }), labels: { dtype: 'int64', shape: [2], data: BigInt64Array.from([0n, 1n]) } }
            : { ...textBatch([5, 3, 6, 2], 6, prng, tiny.vocabSize, 0), ...imageBatch([imageA, imageB]), labels: { dtype: 'int64', shape: [2], data: BigInt64Array.from([0n, 1n]) } };
      await model.configureOptimizer({ weightDecay: 0.01 });
      for (let i = 0; i < 2; i++) {
        const step = await model.trainStep(batch, { skip: ['En1'] });
        assert.ok(Number.isFinite(step.loss));
        if (task === 'irtr') assert.deepEqual(Object.keys(step.parts).sort(), ['irtr', 'itm']);
        await model.optimizerStep(1e-2);
      }
      const after = await model.state('all');
      const trainable = new Set(model.parameters().filter((p) => p.trainable).map((p) => p.name));
      const used = (name: string) =>
        /^(vqa_classifier|nlvr2_classifier|rank_output|pooler)\./.test(name) ||
        (name === 'token_type_embeddings.weight') ||
        /blocks\.1\.skip_adapter\./.test(name) ||
        /blocks\.[02]\.(attn|mlp)_adapter\./.test(name);
      for (const name of Object.keys(before)) {
        const same = sameBytes(after[name]!, before[name]!);
        if (used(name)) {
          assert.ok(trainable.has(name), `${name} should be trainable`);
          assert.ok(!same, `${name} should have been updated`);
        } else {
          assert.ok(same, `${name} must not change (frozen, or an adapter the step did not use)`);
        }
      }
    });
  }

  it('marks adapters, heads, pooler and the modality table trainable (the ITM head stays frozen) and counts parameters exactly', async () => {
    for (const task of ['vqa', 'nlvr2', 'irtr'] as const) {
      const config = { ...tiny, task };
      const model = await Model.create('vilt', config);
      for (const p of model.parameters()) {
        const expected = /_adapter\./.test(p.name) || /^(vqa_classifier|nlvr2_classifier|rank_output|pooler|token_type_embeddings)\./.test(p.name);
        assert.equal(p.trainable, expected, p.name);
      }
      assert.deepEqual(model.parameterCounts(), viltBuiltParams(config), task);
    }
  });

  for (const [task, skip] of [['vqa', []], ['vqa', ['En1']], ['nlvr2', ['En0', 'En2']]] as const) {
    it(`counts FLOPs analytically as the profiler measures a real forward pass: ${task}, skip [${skip.join(',')}]`, async () => {
      const config = { ...tiny, task };
      const model = await Model.create('vilt', config);
      const one = textBatch([6], 6, prng, tiny.vocabSize, 0);
      const image = imageBatch([randomImage(32, 40, prng)]);
      const batch: Batch = task === 'vqa' ? { ...one, ...image } : { ...one, ...image, ...imageBatch([randomImage(32, 40, prng)], '_1') };
      const profile = await model.profileFlops(batch, skip);
      const analytic = viltFlops(config, { textTokens: 6, height: 32, width: 40, skip });
      for (const layer of analytic.layers) {
        const runs = analytic.shared.includes(layer.name) ? 1 : analytic.passes;
        assert.equal(profile.layers[layer.name], runs * layer.flops, layer.name);
      }
      assert.equal(profile.total, analytic.perExample.flops);
    });
  }

  describe('bad input', () => {
    it('names the missing or mis-shaped field', async () => {
      const model = await Model.create('vilt', tiny);
      await assert.rejects(model.evalStep(text), /Expected pixels of shape \[2, 3, height, width\] \(vilt vqa reads it\) for batch\.pixel_values but received a batch without it/);
      const long = textBatch([11], 11, prng, tiny.vocabSize, 0);
      await assert.rejects(model.evalStep({ ...long, ...imageBatch([imageA]) }), /Expected at most 10 \(this ViLT's text position table\) for the tokens of batch\.input_ids \(dimension 1\) but received 11/);
      await assert.rejects(model.evalStep({ ...text, ...imageBatch([imageA]) }), /Expected \[2, 3, height, width\] \(rows 2 from input_ids\) for the shape of batch\.pixel_values but received \[1, 3, 24, 40\]/);
      const wrongMask = { ...vqaBatch, pixel_mask: { dtype: 'uint8', shape: [2, 32, 39], data: new Uint8Array(2 * 32 * 39) } } as Batch;
      await assert.rejects(model.evalStep(wrongMask), /Expected \[2, 32, 40\] \(rows 2 from input_ids, height 32 from pixel_values, width 40 from pixel_values\) for the shape of batch\.pixel_mask but received \[2, 32, 39\]/);
      await assert.rejects(model.evalStep({ ...vqaBatch, targets: randomFloat32([2, 6], prng) }), /Expected \[2, 7\] \(rows 2 from input_ids\) for the shape of batch\.targets but received \[2, 6\]/);
      const irtr = await Model.create('vilt', { ...tiny, task: 'irtr' });
      await assert.rejects(irtr.evalStep({ ...textBatch([3, 3, 3], 3, prng, 60, 0), ...imageBatch([imageA, imageB]) }), /Expected a multiple of the 2 images of pixel_values \(a group of captions per image\) for the rows of batch\.input_ids but received 3/);
    });

    it('rejects an unknown task or architecture in the config', async () => {
      await assert.rejects(Model.create('vilt', { ...tiny, task: 'mnli' as never }), (err: unknown) => err instanceof DasError && /task/.test(err.message));
      await assert.rejects(Model.create('bert' as never, tiny as never), /Expected roberta, vilt, meter for architecture/);
    });
  });
});
