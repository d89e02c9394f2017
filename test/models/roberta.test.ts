import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Prng } from '../../lib/das/prng.js';
import { DasError } from '../../lib/errors.js';
import type { HostTensor } from '../../lib/host-tensor.js';
import { robertaBuiltParams, robertaFlops } from '../../lib/models/flops.js';
import { Model } from '../../lib/models/model.js';
import { manualSeed, rngState, setRngState } from '../../lib/native/runtime.js';
import { ROBERTA_BASE, type RobertaConfig } from '../../lib/models/roberta-config.js';
import { repoRoot } from '../support/repo.js';
import { int64Tensor, maxRelativeError, randomFloat32, writeRawTensors } from '../support/tensors.js';

const tiny: RobertaConfig = {
  ...ROBERTA_BASE,
  vocabSize: 60,
  hidden: 32,
  layers: 3,
  heads: 4,
  intermediate: 48,
  maxPositions: 20,
  numLabels: 3,
  adapterBottleneck: 4,
  skipBottleneck: 6,
};

// two sequences, the second padded (pad id 1, mask 0)
const batch = {
  input_ids: int64Tensor([2, 7], [0, 11, 12, 13, 14, 15, 2, 0, 21, 22, 2, 1, 1, 1]),
  attention_mask: int64Tensor([2, 7], [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0]),
  labels: int64Tensor([2], [0, 2]),
};

/** A model whose every parameter (frozen or not) is random, so no part of the forward is trivial. */
async function randomModel(config: RobertaConfig, seed: number): Promise<{ model: Model; state: Record<string, HostTensor> }> {
  const model = await Model.create('roberta', config, { seed });
  const prng = new Prng(seed);
  const state: Record<string, HostTensor> = {};
  for (const p of model.parameters()) state[p.name] = randomFloat32(p.shape, prng, p.name.endsWith('LayerNorm.weight') || p.name.endsWith('ln.weight') ? 1 : 0.5);
  await model.loadState(state, { strict: true, expect: 'all' });
  return { model, state };
}

function pythonReference(config: RobertaConfig, state: Record<string, HostTensor>, skip: string[]): number[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'das-roberta-ref-'));
  try {
    writeRawTensors(dir, { ...state, 'input.input_ids': batch.input_ids, 'input.attention_mask': batch.attention_mask }, { config, skip });
    const child = spawnSync('/usr/bin/python3', [path.join(repoRoot, 'test/fixtures/roberta_reference.py'), dir], { encoding: 'utf8' });
    assert.equal(child.status, 0, `python reference failed (python3-torch is installed by scripts/setup-debian.sh): ${child.stderr}`);
    return (JSON.parse(child.stdout) as { logits: number[] }).logits;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('RoBERTa (native)', () => {
  for (const skip of [[], ['En1'], ['En0', 'En2']]) {
    it(`matches an independent PyTorch computation with skip [${skip.join(',')}]`, async () => {
      const { model, state } = await randomModel(tiny, 7);
      const ours = await model.evalStep(batch, { skip, logits: true });
      const expected = pythonReference(tiny, state, skip);
      const error = maxRelativeError(ours.logits!.data, expected);
      assert.ok(error < 1e-5, `relative error ${error}`);
    });
  }

  it('skipping a layer whose skip adapter outputs zero equals deleting the layer', async () => {
    const { model: full, state } = await randomModel(tiny, 3);
    const prefix = 'roberta.encoder.layer.1.skip_adapter.up.';
    for (const name of [`${prefix}weight`, `${prefix}bias`]) state[name] = { ...state[name]!, data: new Float32Array(state[name]!.data.length) };
    await full.loadState(state, { strict: true, expect: 'all' });
    const shorter = await Model.create('roberta', { ...tiny, layers: 2 });
    const renamed: Record<string, HostTensor> = {};
    for (const [name, tensor] of Object.entries(state)) {
      const match = /^roberta\.encoder\.layer\.(\d+)\.(.*)$/.exec(name);
      if (!match) renamed[name] = tensor;
      else if (match[1] === '0') renamed[name] = tensor;
      else if (match[1] === '2') renamed[`roberta.encoder.layer.1.${match[2]}`] = tensor;
    }
    await shorter.loadState(renamed, { strict: true, expect: 'all' });
    const skipped = await full.evalStep(batch, { skip: ['En1'], logits: true });
    const deleted = await shorter.evalStep(batch, { logits: true });
    assert.deepEqual(Array.from(skipped.logits!.data), Array.from(deleted.logits!.data));
  });

  it('a skipped layer is x + PA(x): its skip adapter changes the output, its own weights do not', async () => {
    const { model, state } = await randomModel(tiny, 5);
    const before = await model.evalStep(batch, { skip: ['En1'], logits: true });
    const changed = { ...state };
    const frozen = 'roberta.encoder.layer.1.intermediate.dense.weight';
    changed[frozen] = randomFloat32(state[frozen]!.shape, new Prng(99));
    await model.loadState(changed, { strict: true, expect: 'all' });
    assert.deepEqual(Array.from((await model.evalStep(batch, { skip: ['En1'], logits: true })).logits!.data), Array.from(before.logits!.data));
    const adapter = 'roberta.encoder.layer.1.skip_adapter.down.weight';
    changed[adapter] = randomFloat32(state[adapter]!.shape, new Prng(98));
    await model.loadState(changed, { strict: true, expect: 'all' });
    assert.notDeepEqual(Array.from((await model.evalStep(batch, { skip: ['En1'], logits: true })).logits!.data), Array.from(before.logits!.data));
  });

  it('trains only adapters and the head: frozen weights and unused adapters never change', async () => {
    const { model, state: before } = await randomModel(tiny, 11);
    await model.configureOptimizer({ weightDecay: 0.01 });
    for (let i = 0; i < 2; i++) {
      await model.trainStep(batch, { skip: ['En1'] });
      await model.optimizerStep(1e-2);
    }
    const after = await model.state('all');
    const used = (name: string) =>
      name.startsWith('classifier.') || /layer\.1\.skip_adapter\./.test(name) || /layer\.[02]\.(attn|ffn)_adapter\./.test(name);
    const trainable = new Set(model.parameters().filter((p) => p.trainable).map((p) => p.name));
    for (const name of Object.keys(before)) {
      const same = Buffer.from(after[name]!.data.buffer).equals(Buffer.from(before[name]!.data.buffer));
      if (used(name)) {
        assert.ok(trainable.has(name), `${name} should be trainable`);
        assert.ok(!same, `${name} should have been updated`);
      } else {
        assert.ok(same, `${name} must not change (frozen, or an adapter the step did not use)`);
      }
    }
  });

  it('marks exactly adapters and the head trainable, and counts parameters exactly', async () => {
    const model = await Model.create('roberta', tiny);
    for (const p of model.parameters()) assert.equal(p.trainable, /_adapter\./.test(p.name) || p.name.startsWith('classifier.'), p.name);
    assert.equal(model.parameterCounts().total, robertaBuiltParams(tiny));
    // roberta-base with a 3-way head: 124,647,939 parameters (the paper's 124.65M)
    assert.equal(robertaFlops(ROBERTA_BASE, { tokens: 512 }).params.base, 124_647_939);
  });

  for (const skip of [[], ['En1'], ['En0', 'En2']]) {
    it(`counts FLOPs analytically as the profiler measures a real forward pass, skip [${skip.join(',')}]`, async () => {
      const model = await Model.create('roberta', tiny);
      const profile = await model.profileFlops(batch, skip);
      const analytic = robertaFlops(tiny, { tokens: 7, skip });
      const sequences = 2;
      for (const layer of analytic.layers) assert.equal(profile.layers[layer.name], sequences * layer.flops, layer.name);
      assert.equal(profile.total, sequences * analytic.flops);
    });
  }

  it('resumes exactly from trainable state + optimizer state + RNG state (dropout included)', async () => {
    const { model: first, state } = await randomModel(tiny, 21);
    await first.configureOptimizer({ weightDecay: 0.01 });
    manualSeed(5);
    const steps = async (model: Model, n: number) => {
      const losses: number[] = [];
      for (let i = 0; i < n; i++) {
        losses.push((await model.trainStep(batch, { skip: ['En2'] })).loss);
        await model.optimizerStep(1e-2);
      }
      return losses;
    };
    await steps(first, 2);
    const snapshot = { trainable: await first.state('trainable'), optimizer: await first.optimizerState(), rng: rngState() };
    const uninterrupted = await steps(first, 3);
    const expected = await first.state('trainable');

    const second = await Model.create('roberta', tiny, { seed: 999 });
    await second.loadState(state, { strict: true, expect: 'all' });
    await second.loadState(snapshot.trainable, { strict: true, expect: 'trainable' });
    await second.configureOptimizer({ weightDecay: 0.01 });
    await second.loadOptimizerState(snapshot.optimizer);
    setRngState(snapshot.rng);
    assert.deepEqual(await steps(second, 3), uninterrupted);
    const resumed = await second.state('trainable');
    for (const name of Object.keys(expected)) {
      assert.ok(Buffer.from(resumed[name]!.data.buffer).equals(Buffer.from(expected[name]!.data.buffer)), name);
    }
  });

  describe('bad input', () => {
    it('names an unknown layer and lists the real ones', async () => {
      const model = await Model.create('roberta', tiny);
      await assert.rejects(model.evalStep(batch, { skip: ['En7'] }), /unknown layer 'En7' for roberta \(layers: En0, En1, En2\)/);
    });

    it('refuses work on a disposed model', async () => {
      const model = await Model.create('roberta', tiny);
      await model.dispose();
      await assert.rejects(model.evalStep(batch), /this model was disposed/);
      assert.throws(() => model.parameters(), /this model was disposed/);
    });

    it('names a missing batch field', async () => {
      const model = await Model.create('roberta', tiny);
      await assert.rejects(model.evalStep({ attention_mask: batch.attention_mask }), /Expected token ids of shape \[rows, tokens\] \(roberta reads it\) for batch\.input_ids but received a batch without it/);
    });

    it('refuses more tokens than the position table holds', async () => {
      const model = await Model.create('roberta', tiny);
      const long = int64Tensor([1, 19], Array(19).fill(5));
      await assert.rejects(model.evalStep({ input_ids: long }), /Expected at most 18 \(this RoBERTa's position table\) for the tokens of batch\.input_ids \(dimension 1\) but received 19/);
    });

    it('reports mis-shaped, unexpected and missing keys by name in strict mode', async () => {
      const model = await Model.create('roberta', tiny);
      const tensors = {
        'roberta.embeddings.word_embeddings.weight': randomFloat32([61, 32], new Prng(1)),
        'lm_head.dense.weight': randomFloat32([32, 32], new Prng(2)),
      };
      await assert.rejects(model.loadState(tensors, { strict: true }), (err: unknown) => {
        assert.ok(err instanceof DasError);
        assert.match(err.message, /shape of roberta\.embeddings\.word_embeddings\.weight: expected \[60, 32\], checkpoint has \[61, 32\]/);
        assert.match(err.message, /unexpected keys: lm_head\.dense\.weight/);
        assert.match(err.message, /missing keys: roberta\.embeddings\.position_embeddings\.weight/);
        assert.doesNotMatch(err.message, /missing keys: .*word_embeddings/, 'a mis-shaped key is not also reported missing');
        return true;
      });
    });

    it('maps HuggingFace names: RobertaModel keys without the prefix, old gamma/beta LayerNorm names, position_ids', async () => {
      const model = await Model.create('roberta', tiny);
      const report = await model.loadState({
        'embeddings.LayerNorm.gamma': randomFloat32([32], new Prng(3)),
        'encoder.layer.0.output.dense.bias': randomFloat32([32], new Prng(4)),
        'roberta.embeddings.position_ids': int64Tensor([1, 20], Array.from({ length: 20 }, (_, i) => i)),
      });
      assert.deepEqual(report.loaded.sort(), ['roberta.embeddings.LayerNorm.weight', 'roberta.encoder.layer.0.output.dense.bias']);
      assert.deepEqual(report.ignored, ['roberta.embeddings.position_ids']);
      assert.deepEqual(report.unexpected, []);
    });
  });
});
