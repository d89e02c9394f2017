import assert from 'node:assert/strict';
import { Prng } from '../../lib/das/prng.js';
import type { HostTensor } from '../../lib/host-tensor.js';
import type { MeterConfig } from '../../lib/models/meter-config.js';
import { Model } from '../../lib/models/model.js';
import { meterBuiltParams, meterFlops } from '../../lib/models/vl-flops.js';
import { manualSeed } from '../../lib/native/runtime.js';
import { maxRelativeError, randomFloat32, randomScores } from '../support/tensors.js';
import { TINY_METER, pythonLogits, randomModel, rowsOf, sameBytes, textBatch, type Batch } from '../support/vl.js';

const tiny = TINY_METER;

const prng = new Prng(17);
const text = textBatch([6, 4], 6, prng, 60, 1);
const pixels = (n: number, p = prng): HostTensor<'float32'> => randomFloat32([n, 3, 32, 32], p, 1);
const int64 = (values: number[]): HostTensor<'int64'> => ({ dtype: 'int64', shape: [values.length], data: BigInt64Array.from(values.map(BigInt)) });
const vqaBatch: Batch = { ...text, pixel_values: pixels(2), targets: randomScores([2, 7], prng) };
const nlvr2Batch: Batch = { ...text, pixel_values: pixels(2), pixel_values_1: pixels(2), labels: int64([1, 0]) };
const irtrBatch: Batch = { ...textBatch([5, 3, 6, 2, 4, 6], 6, prng, 60, 1), pixel_values: pixels(2), labels: int64([0, 2]) };

function batchFor(task: MeterConfig['task']): Batch {
  return task === 'vqa' ? vqaBatch : task === 'nlvr2' ? nlvr2Batch : irtrBatch;
}

describe('METER (native)', () => {
  for (const skip of [[], ['FV0'], ['FL1', 'LEn1'], ['FL0', 'FV1', 'LEn0', 'LEn2']]) {
    it(`VQA matches an independent PyTorch computation (CLIP through torch's MHA, lock-step fusion), skip [${skip.join(',')}]`, async () => {
      const { model, state } = await randomModel('meter', tiny, 7);
      const ours = (await model.evalStep(vqaBatch, { skip, logits: true })).logits!;
      const error = maxRelativeError(ours.data, pythonLogits('meter_reference.py', state, vqaBatch, { config: tiny, skip }));
      assert.ok(error < 1e-5, `relative error ${error}`);
    });
  }

  for (const task of ['nlvr2', 'irtr'] as const) {
    it(`${task} matches the reference`, async () => {
      const config = { ...tiny, task };
      const { model, state } = await randomModel('meter', config, 8);
      const ours = (await model.evalStep(batchFor(task), { skip: ['FV1'], logits: true })).logits!;
      assert.deepEqual(ours.shape, task === 'nlvr2' ? [2, 2] : [2, 3]);
      const error = maxRelativeError(ours.data, pythonLogits('meter_reference.py', state, batchFor(task), { config, skip: ['FV1'] }));
      assert.ok(error < 1e-5, `relative error ${error}`);
    });
  }

  it('skipping FVi leaves the text stream of layer i untouched (the text layer still reads image_i)', async () => {
    const { model, state } = await randomModel('meter', tiny, 12);
    // make the head read only the text half of cls_feats: then only the text stream shows in the logits
    const first = state['vqa_classifier.0.weight']!;
    const textOnly = Float32Array.from(first.data as Float32Array, (v, i) => (i % 64 < 32 ? v : 0));
    await model.loadState({ 'vqa_classifier.0.weight': { ...first, data: textOnly } }, { strict: false });
    const logits = async (skip: string[]) => (await model.evalStep(vqaBatch, { skip, logits: true })).logits!;
    const none = await logits([]);
    // the last image layer feeds nothing the text side reads: skipping it changes no text output
    assert.ok(sameBytes(await logits(['FV1']), none), 'FV1 skipped: text stream unchanged');
    // an earlier image layer feeds the next text layer: skipping FV0 changes the text stream at layer 1 only
    assert.ok(!sameBytes(await logits(['FV0']), none), 'FV0 skipped: text layer 1 reads another image stream');
    assert.ok(!sameBytes(await logits(['FL1']), none), 'FL1 skipped: the text stream itself changes');
  });

  it('padded text gives the real tokens the outputs they have unpadded', async () => {
    const { model } = await randomModel('meter', tiny, 9);
    const padded = (await model.evalStep(vqaBatch, { logits: true })).logits!;
    const ids = (text.input_ids as HostTensor<'int64'>).data.slice(6, 10);
    const alone = (await model.evalStep({ input_ids: { dtype: 'int64', shape: [1, 4], data: ids }, pixel_values: { ...vqaBatch.pixel_values!, shape: [1, 3, 32, 32], data: (vqaBatch.pixel_values!.data as Float32Array).slice(3 * 32 * 32) } }, { logits: true })).logits!;
    assert.ok(maxRelativeError(Array.from(alone.data), rowsOf(padded, [1])) < 1e-5);
  });

  for (const skip of [['FL0', 'FV1'], ['LEn1', 'FV0']]) {
    it(`gradients reach only trainable parameters in use, skip [${skip.join(',')}]; frozen prefixes build no graph`, async () => {
      const { model, state: before } = await randomModel('meter', tiny, 11);
      await model.configureOptimizer({ weightDecay: 0.01 });
      for (let i = 0; i < 2; i++) {
        await model.trainStep(vqaBatch, { skip });
        await model.optimizerStep(1e-2);
      }
      const counters = await model.counters();
      assert.equal(counters['frozen.vision.graph'], 0);
      assert.equal(counters['frozen.text.graph'], 0);
      assert.equal(counters['frozen.text.layers'], skip.includes('LEn1') ? 1 : 3);
      const after = await model.state('all');
      const trainable = new Set(model.parameters().filter((p) => p.trainable).map((p) => p.name));
      const layerOf = (name: string) => {
        const m = /^cross_modal_(text|image)_layers\.(\d+)\./.exec(name);
        if (m) return `${m[1] === 'text' ? 'FL' : 'FV'}${m[2]}`;
        const t = /^text_transformer\.encoder\.layer\.(\d+)\./.exec(name);
        return t ? `LEn${t[1]}` : '';
      };
      const used = (name: string) => {
        if (/^(vqa_classifier|cross_modal_text_pooler|cross_modal_image_pooler|cross_modal_text_transform|cross_modal_image_transform)\./.test(name)) return true;
        if (name === 'token_type_embeddings.weight' || name === 'token4classifier') return true;
        if (/\.skip_adapter\./.test(name)) return skip.includes(layerOf(name));
        if (/_adapter\./.test(name)) return !skip.includes(layerOf(name));
        return false;
      };
      for (const name of Object.keys(before)) {
        const same = sameBytes(after[name]!, before[name]!);
        if (used(name)) {
          assert.ok(trainable.has(name), `${name} should be trainable`);
          // an adapter's inner weights may see no gradient where its ReLU is dead on every token
          // that matters (the last image layer feeds only token 0 to the pooler); its output bias always does
          if (!/_adapter\./.test(name) || /\.up\.bias$/.test(name)) assert.ok(!same, `${name} should have been updated`);
        } else {
          assert.ok(same, `${name} must not change (frozen, or an adapter the step did not use)`);
        }
      }
    });
  }

  it('the feature cache gives bit-identical losses and weights, and says when it is bypassed', async () => {
    const cached = await randomModel('meter', { ...tiny, featureCacheBytes: 1 << 20 }, 13);
    const plain = await randomModel('meter', tiny, 13);
    const batches: Batch[] = [0, 1].map((k) => ({ ...textBatch([6, 3], 6, new Prng(k), 60, 1), pixel_values: pixels(2, new Prng(10 + k)), targets: randomScores([2, 7], new Prng(20 + k)), image_keys: int64([2 * k, 2 * k + 1]), text_keys: int64([2 * k, 2 * k + 1]) }));
    const run = async (model: Model<'meter'>, list: Batch[], skip: string[] = ['FV0']) => {
      manualSeed(3);
      const losses: number[] = [];
      for (const batch of list) {
        losses.push((await model.trainStep(batch, { skip })).loss);
        await model.optimizerStep(1e-2);
      }
      return losses;
    };
    await cached.model.configureOptimizer({});
    await plain.model.configureOptimizer({});
    for (let epoch = 0; epoch < 2; epoch++) assert.deepEqual(await run(cached.model, batches), await run(plain.model, batches), `epoch ${epoch}`);
    let counters = await cached.model.counters();
    assert.equal(counters['cache.image.misses'], 4);
    assert.equal(counters['cache.image.hits'], 4);
    assert.equal(counters['cache.text.hits'], 4);
    const [a, b] = [await cached.model.state('trainable'), await plain.model.state('trainable')];
    for (const name of Object.keys(a)) assert.ok(sameBytes(a[name]!, b[name]!), name);

    // an augmented image under the same key is recomputed, not served stale, and counted
    const augmented = { ...batches[0]!, pixel_values: pixels(2, new Prng(99)) };
    assert.deepEqual(await run(cached.model, [augmented]), await run(plain.model, [augmented]));
    counters = await cached.model.counters();
    assert.equal(counters['cache.image.changed'], 2);
    // a skipped language-encoder layer makes its output trainable: the text cache steps aside
    assert.deepEqual(await run(cached.model, [batches[1]!], ['LEn2']), await run(plain.model, [batches[1]!], ['LEn2']));
    counters = await cached.model.counters();
    assert.equal(counters['cache.text.bypassed.skip'], 1);
    const { image_keys: _i, text_keys: _t, ...keyless } = batches[1]!;
    await cached.model.evalStep(keyless);
    assert.equal((await cached.model.counters())['cache.image.bypassed.no_keys'], 1);
  });

  it('marks exactly the DAS parameters trainable and counts parameters exactly', async () => {
    for (const task of ['vqa', 'nlvr2', 'irtr'] as const) {
      const config = { ...tiny, task };
      const model = await Model.create('meter', config);
      const trainable = /_adapter\.|^(vqa_classifier|nlvr2_classifier|rank_output|cross_modal_(text|image)_(pooler|transform)|token_type_embeddings)\.|^token4classifier$/;
      for (const p of model.parameters()) assert.equal(p.trainable, trainable.test(p.name), p.name);
      assert.deepEqual(model.parameterCounts(), meterBuiltParams(config), task);
    }
  });

  it('has the fusion and global scopes of the paper', async () => {
    const model = await Model.create('meter', tiny);
    assert.deepEqual(model.layerNames('fusion'), ['FL0', 'FL1', 'FV0', 'FV1']);
    assert.deepEqual(model.layerNames('global'), ['FL0', 'FL1', 'FV0', 'FV1', 'LEn0', 'LEn1', 'LEn2']);
    assert.throws(() => model.layerNames('vision'), /unknown scope 'vision' for meter \(expected: fusion, global\)/);
  });

  for (const [task, skip] of [['vqa', []], ['vqa', ['FL0', 'FV1', 'LEn1']], ['nlvr2', ['FV0']], ['irtr', ['FL1']]] as const) {
    it(`counts FLOPs analytically as the profiler measures a real forward pass: ${task}, skip [${skip.join(',')}]`, async () => {
      const config = { ...tiny, task };
      const model = await Model.create('meter', config);
      const one: Batch = { ...textBatch([6], 6, prng, 60, 1), pixel_values: pixels(1) };
      if (task === 'nlvr2') one.pixel_values_1 = pixels(1);
      const profile = await model.profileFlops(one, skip);
      const analytic = meterFlops(config, { textTokens: 6, skip });
      for (const layer of analytic.layers) {
        const runs = analytic.shared.includes(layer.name) ? 1 : analytic.passes;
        assert.equal(profile.layers[layer.name], runs * layer.flops, layer.name);
      }
      assert.equal(profile.total, analytic.perExample.flops);
    });
  }

  describe('bad input', () => {
    it('names the field or size that is wrong', async () => {
      const model = await Model.create('meter', tiny);
      await assert.rejects(model.evalStep({ ...text, pixel_values: randomFloat32([2, 3, 24, 32], prng) }), /Expected \[2, 3, 32, 32\] \(rows 2 from input_ids\) for the shape of batch\.pixel_values but received \[2, 3, 24, 32\]/);
      await assert.rejects(model.evalStep({ ...text, pixel_values: pixels(2), image_keys: int64([1]) }), /Expected \[2\] \(rows 2 from input_ids\) for the shape of batch\.image_keys but received \[1\]/);
      const nlvr2 = await Model.create('meter', { ...tiny, task: 'nlvr2' });
      await assert.rejects(nlvr2.evalStep({ ...text, pixel_values: pixels(2) }), /Expected pixels of shape \[2, 3, 32, 32\] \(meter nlvr2 reads it\) for batch\.pixel_values_1 but received a batch without it/);
      await assert.rejects(nlvr2.evalStep({ ...nlvr2Batch, labels: int64([0, 2]) }), /Expected class labels in \[0, 2\) \(false, true\) for batch\.labels but received 2 at \[1\]/);
    });
  });
});
