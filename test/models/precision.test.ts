import assert from 'node:assert/strict';
import { Prng } from '../../lib/das/prng.js';
import { DasError } from '../../lib/errors.js';
import type { HostTensor } from '../../lib/host-tensor.js';
import { Model, type Architecture, type ConfigByArchitecture } from '../../lib/models/model.js';
import type { GradScalerOptions, Precision } from '../../lib/models/precision.js';
import { ROBERTA_BASE, type RobertaConfig } from '../../lib/models/roberta-config.js';
import { resolveMethod } from '../../lib/methods/index.js';
import { loadBinding } from '../../lib/native/binding.js';
import { manualSeed, runtimeInfo } from '../../lib/native/runtime.js';
import { randomFloat32, randomScores } from '../support/tensors.js';
import { TINY_METER, TINY_VILT, imageBatch, randomImage, sameBytes, textBatch, type Batch } from '../support/vl.js';

const TINY_ROBERTA: RobertaConfig = { ...ROBERTA_BASE, vocabSize: 60, hidden: 32, layers: 3, heads: 4, intermediate: 48, maxPositions: 40, numLabels: 3, adapterBottleneck: 4, skipBottleneck: 6 };

const prng = new Prng(31);
const int64 = (values: number[]): HostTensor<'int64'> => ({ dtype: 'int64', shape: [values.length], data: BigInt64Array.from(values.map(BigInt)) });
const BATCHES: { [A in Architecture]: Batch } = {
  roberta: { ...textBatch([7, 3], 7, prng, 60, 1), labels: int64([0, 2]) },
  vilt: { ...textBatch([6, 4], 6, prng, 60, 0), ...imageBatch([randomImage(24, 40, prng), randomImage(32, 24, prng)]), targets: randomScores([2, 7], prng) },
  meter: { ...textBatch([6, 4], 6, prng, 60, 1), pixel_values: randomFloat32([2, 3, 32, 32], prng, 1), targets: randomScores([2, 7], prng) },
};
const CONFIGS: { [A in Architecture]: ConfigByArchitecture[A] } = { roberta: TINY_ROBERTA, vilt: TINY_VILT, meter: TINY_METER };
const SKIPS: { [A in Architecture]: string[] } = { roberta: ['En1'], vilt: ['En1'], meter: ['FL0', 'LEn1'] };

/**
 * The same random weights in a model of the given precision: uniform in [-0.25, 0.25] (LayerNorm
 * weights around 1), large enough that every layer matters, tame enough that attention is not
 * one-hot, as in trained models.
 */
async function modelIn<A extends Architecture>(arch: A, precision: Precision, seed: number, gradScaler?: GradScalerOptions): Promise<Model<A>> {
  const model = await Model.create(arch, CONFIGS[arch], { seed, precision, gradScaler });
  const random = new Prng(seed);
  const state: Record<string, HostTensor> = {};
  for (const p of model.parameters()) {
    const t = randomFloat32(p.shape, random, 0.25);
    if (/(LayerNorm|norm\d?|ln(_\w+)?|\.1)\.weight$/.test(p.name) && p.shape.length === 1) t.data.forEach((v, i) => (t.data[i] = 1 + v));
    state[p.name] = t;
  }
  await model.loadState(state, { strict: true, expect: 'all' });
  return model;
}

function maxAbs(values: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < values.length; i++) max = Math.max(max, Math.abs(values[i]!));
  return max;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

// bf16 keeps 8 significant bits (relative rounding error 2^-9 per operation); through the layers of
// these tiny random models the logits stay within 2% of their largest magnitude (about 0.3-0.9%
// measured). PyTorch's own CPU autocast lands as far from fp32 on the same weights.
const BF16_TOLERANCE = 0.02;

describe('mixed precision (native)', () => {
  for (const arch of ['roberta', 'vilt', 'meter'] as const) {
    it(`${arch}: a bf16 forward stays within ${BF16_TOLERANCE * 100}% of fp32, and really computes in bf16`, async () => {
      const fp32 = await modelIn(arch, 'fp32', 5);
      const bf16 = await modelIn(arch, 'bf16', 5);
      assert.equal(bf16.precision, 'bf16');
      for (const skip of [[], SKIPS[arch]]) {
        const reference = await fp32.evalStep(BATCHES[arch], { skip, logits: true });
        const low = await bf16.evalStep(BATCHES[arch], { skip, logits: true });
        assert.equal(low.logits!.dtype, 'float32', 'logits come back as float32');
        const error = maxDiff(low.logits!.data, reference.logits!.data) / maxAbs(reference.logits!.data);
        assert.ok(error < BF16_TOLERANCE, `skip [${skip}]: bf16 logits differ from fp32 by ${error} of their scale`);
        assert.ok(error > 0, 'bf16 logits are exactly the fp32 ones: autocast did not run');
        assert.ok(Math.abs(low.loss! - reference.loss!) < BF16_TOLERANCE * Math.abs(reference.loss!), `loss ${low.loss} vs ${reference.loss}`);
      }
      // a bf16 train step updates the fp32 master weights (which stay fp32) in the directions an fp32 step does
      const initial = await fp32.state();
      for (const model of [fp32, bf16]) {
        await model.configureOptimizer({ weightDecay: 0 });
        manualSeed(77); // the same dropout masks
        await model.trainStep(BATCHES[arch], { skip: SKIPS[arch] });
        await model.optimizerStep(1e-3);
      }
      const [after32, after16] = await Promise.all([fp32.state(), bf16.state()]);
      let moved = 0;
      let agree = 0;
      for (const [name, start] of Object.entries(initial)) {
        assert.equal(after16[name]!.dtype, 'float32', `${name} stays float32`);
        const [s, a, b] = [start.data, after32[name]!.data, after16[name]!.data] as Float32Array[];
        for (let i = 0; i < s!.length; i++) {
          if (a![i] === s![i]) continue;
          moved++;
          if (Math.sign(a![i]! - s![i]!) === Math.sign(b![i]! - s![i]!)) agree++;
        }
      }
      assert.ok(moved > 0 && agree / moved > 0.9, `bf16 moved ${agree} of ${moved} weights the way fp32 did`);
      await Promise.all([fp32, bf16].map((m) => m.dispose()));
    });
  }

  it('masks with long padding in bf16 give finite outputs that match the unpadded sequence', async () => {
    const model = await modelIn('roberta', 'bf16', 8);
    // one real token in 38, and a row whose mask is all zero (fully masked attention rows)
    const ids = new BigInt64Array(2 * 38).fill(1n);
    ids[0] = 0n;
    ids[38] = 0n;
    const mask = new BigInt64Array(2 * 38);
    mask[0] = 1n;
    const padded = await model.evalStep({ input_ids: { dtype: 'int64', shape: [2, 38], data: ids }, attention_mask: { dtype: 'int64', shape: [2, 38], data: mask } }, { logits: true });
    assert.ok(Array.from(padded.logits!.data).every(Number.isFinite), `NaN or inf logits: ${Array.from(padded.logits!.data)}`);
    const alone = await model.evalStep({ input_ids: { dtype: 'int64', shape: [1, 1], data: BigInt64Array.from([0n]) } }, { logits: true });
    const row = Array.from(padded.logits!.data.subarray(0, 3));
    assert.ok(maxDiff(row, alone.logits!.data) <= BF16_TOLERANCE * maxAbs(alone.logits!.data), `padded ${row} vs alone ${Array.from(alone.logits!.data)}`);
    // ViLT with most of its image padded away
    const vilt = await modelIn('vilt', 'bf16', 8);
    const small = imageBatch([randomImage(8, 8, prng), randomImage(32, 40, prng)]);
    const out = await vilt.evalStep({ ...textBatch([2, 6], 6, prng, 60, 0), ...small }, { logits: true });
    assert.ok(Array.from(out.logits!.data).every(Number.isFinite));
    await Promise.all([model.dispose(), vilt.dispose()]);
  });

  it('fp16 on the CPU is refused with a clear error, in TypeScript and in the addon', async () => {
    await assert.rejects(Model.create('roberta', TINY_ROBERTA, { precision: 'fp16' }), (error: unknown) => {
      assert.ok(error instanceof DasError);
      assert.equal(error.code, 'DAS_INVALID_ARGUMENT');
      assert.match(error.message, /precision fp16 needs a CUDA device .* but the device is cpu; use bf16/);
      return true;
    });
    await assert.rejects(Model.create('roberta', TINY_ROBERTA, { precision: 'fp8' as Precision }), /Expected 'fp32', 'bf16', 'fp16' for precision but received "fp8"/);
    // the addon refuses it too, for callers that bypass the TypeScript checks
    const { binding } = loadBinding();
    const das = resolveMethod('das');
    assert.throws(() => binding.createModel('roberta', TINY_ROBERTA, 'cpu', 0, das, { precision: 'fp16' }), /precision fp16 needs a CUDA device/);
    assert.throws(() => binding.createModel('roberta', TINY_ROBERTA, 'cpu', 0, das, { precision: 'int8' as 'fp16' }), /Expected 'fp32', 'bf16' or 'fp16' for precision but received 'int8'/);
    assert.throws(() => binding.createModel('roberta', TINY_ROBERTA, 'cpu', 0, das, { precision: 'bf16', growthFactor: 0.5 }), /expected initScale > 0, growthFactor > 1/);
  });

  it('gradient scaling is exact: a scaled step updates the weights bit for bit like an unscaled one', async () => {
    const plain = await modelIn('roberta', 'fp32', 3);
    const scaled = await modelIn('roberta', 'fp32', 3, { enabled: true, initScale: 1024, growthInterval: 2 });
    assert.equal(scaled.gradScaling, true);
    const scales: number[] = [];
    for (const model of [plain, scaled]) {
      await model.configureOptimizer();
      for (let step = 0; step < 3; step++) {
        manualSeed(step); // the same dropout masks in both models
        await model.trainStep(BATCHES.roberta, { accumulationWeight: 0.5 });
        await model.trainStep(BATCHES.roberta, { accumulationWeight: 0.5 });
        const result = await model.optimizerStep(1e-2);
        assert.equal(result.applied, true);
        if (model === scaled) scales.push(result.gradScale);
        else assert.equal(result.gradScale, 1);
      }
    }
    assert.deepEqual(scales, [1024, 2048, 2048], 'the scale doubles after growthInterval clean steps');
    const [a, b] = await Promise.all([plain.state(), scaled.state()]);
    for (const name of Object.keys(a)) assert.ok(sameBytes(a[name]!, b[name]!), `${name} differs`);
    await Promise.all([plain.dispose(), scaled.dispose()]);
  });

  it('an overflowing step is skipped and the scale backs off; the scaler state survives a checkpoint', async () => {
    // a scale beyond float32's range: the scaled loss overflows, and with it every gradient
    const model = await modelIn('roberta', 'fp32', 4, { enabled: true, initScale: 1e39, growthInterval: 2 });
    await model.configureOptimizer();
    const before = await model.state();
    await model.trainStep(BATCHES.roberta);
    const overflow = await model.optimizerStep(1e-2);
    assert.deepEqual(overflow, { applied: false, gradScale: 5e38 });
    const after = await model.state();
    for (const name of Object.keys(before)) assert.ok(sameBytes(before[name]!, after[name]!), `${name} changed on a skipped step`);

    // one clean step (growth tracker 1), then save: a restored model grows the scale at its next clean step
    const small = await modelIn('roberta', 'fp32', 4, { enabled: true, initScale: 256, growthInterval: 2 });
    await small.configureOptimizer();
    await small.trainStep(BATCHES.roberta);
    assert.deepEqual(await small.optimizerStep(1e-2), { applied: true, gradScale: 256 });
    const saved = await small.optimizerState();
    const restored = await modelIn('roberta', 'fp32', 4, { enabled: true, initScale: 256, growthInterval: 2 });
    await restored.configureOptimizer();
    await restored.loadOptimizerState(saved);
    await restored.trainStep(BATCHES.roberta);
    assert.equal((await restored.optimizerStep(1e-2)).gradScale, 512);
    await Promise.all([model, small, restored].map((m) => m.dispose()));
  });

  it('rejects gradient scaler settings that cannot work, naming them', async () => {
    await assert.rejects(Model.create('roberta', TINY_ROBERTA, { gradScaler: { backoffFactor: 2 } }), /Expected a number between 0 and 1 for gradScaler.backoffFactor but received 2/);
    await assert.rejects(Model.create('roberta', TINY_ROBERTA, { gradScaler: { growthInterval: 0.5 } }), /Expected a positive integer for gradScaler.growthInterval/);
  });

  it('scaled_dot_product_attention and the explicit path give the same results', async () => {
    const { binding } = loadBinding();
    const fused = runtimeInfo().torch.fusedAttention;
    assert.equal(fused, Number(runtimeInfo().torch.headerVersion.split('.')[0]) >= 2, 'fused attention is the default exactly on libtorch >= 2.0');
    try {
      for (const arch of ['roberta', 'vilt', 'meter'] as const) {
        const model = await modelIn(arch, 'fp32', 12);
        binding.setFusedAttention(false);
        const explicit = await model.evalStep(BATCHES[arch], { skip: SKIPS[arch], logits: true });
        assert.equal(binding.setFusedAttention(true), fused, 'fused attention can be turned on exactly where libtorch has it');
        const result = await model.evalStep(BATCHES[arch], { skip: SKIPS[arch], logits: true });
        const error = maxDiff(result.logits!.data, explicit.logits!.data) / maxAbs(explicit.logits!.data);
        assert.ok(error < 1e-5, `${arch}: fused and explicit attention differ by ${error}`);
        await model.dispose();
      }
    } finally {
      binding.setFusedAttention(true);
    }
  });
});
