import assert from 'node:assert/strict';
import { describeArchitecture, isExecuted, layerOfParameter } from '../../lib/models/architecture.js';
import { Model, type Architecture, type ConfigByArchitecture } from '../../lib/models/model.js';
import { ROBERTA_BASE, type RobertaConfig } from '../../lib/models/roberta-config.js';
import { TINY_METER, TINY_VILT } from '../support/vl.js';

const tinyRoberta: RobertaConfig = { ...ROBERTA_BASE, vocabSize: 60, hidden: 32, layers: 3, heads: 4, intermediate: 48, maxPositions: 20, adapterBottleneck: 4, skipBottleneck: 6 };

const CASES: { [A in Architecture]: ConfigByArchitecture[A] } = { roberta: tinyRoberta, vilt: TINY_VILT, meter: TINY_METER };

describe('architecture descriptor', () => {
  for (const architecture of Object.keys(CASES) as Architecture[]) {
    it(`${architecture}: names, prefixes and projections match the model the addon builds`, async () => {
      const config = CASES[architecture];
      const descriptor = describeArchitecture(architecture, config);
      const model = await Model.create(architecture, config);
      try {
        assert.deepEqual(model.describe(), descriptor, 'the same descriptor with and without a model');
        assert.deepEqual(descriptor.layers.map((l) => l.name), model.layerNames());
        for (const [scope, layers] of Object.entries(descriptor.scopes)) assert.deepEqual(layers, model.layerNames(scope), scope);
        const params = new Map(model.parameters().map((p) => [p.name, p]));
        for (const layer of descriptor.layers) {
          for (const projection of layer.projections) {
            const weight = params.get(`${layer.prefix}${projection.module}.weight`);
            assert.ok(weight, `${layer.name}: ${projection.module}`);
            assert.equal(weight.shape[1], projection.in, `${layer.name}.${projection.role} in`);
            assert.ok(weight.shape[0]! >= projection.offset + projection.out, `${layer.name}.${projection.role} out`);
          }
          // the layer's own parameters: projections (weight + bias) and LayerNorms, nothing else pre-trained
          const own = [...params.values()].filter((p) => p.name.startsWith(layer.prefix) && p.role === 'pretrained');
          const modules = new Map(layer.projections.map((p) => [p.module, 0]));
          for (const p of layer.projections) modules.set(p.module, modules.get(p.module)! + p.out);
          const expected = [...modules.entries()].reduce((sum, [module, out]) => sum + out * layer.projections.find((p) => p.module === module)!.in + out, 0) + 2 * layer.layerNorms * layer.hidden;
          assert.equal(own.reduce((sum, p) => sum + p.numel, 0), expected, `${layer.name}: parameters from the descriptor`);
        }
      } finally {
        await model.dispose();
      }
    });
  }

  it('gives every parameter a role, and the das method trains exactly its own modules, the task parts and the head', async () => {
    const model = await Model.create('meter', TINY_METER);
    try {
      const byRole = (role: string) => model.parameters().filter((p) => p.role === role);
      assert.ok(byRole('method').every((p) => /_adapter\./.test(p.name)) && byRole('method').length > 0);
      assert.ok(byRole('task').some((p) => p.name === 'token4classifier'));
      assert.ok(byRole('frozen_head').every((p) => p.name.startsWith('itm_score.')));
      for (const p of model.parameters()) assert.equal(p.trainable, ['method', 'task', 'head'].includes(p.role), p.name);
      assert.equal(model.method.name, 'das');
    } finally {
      await model.dispose();
    }
  });

  it('says which parameters a skipped layer still runs (its skip adapter only)', () => {
    const descriptor = describeArchitecture('vilt', TINY_VILT);
    assert.equal(layerOfParameter(descriptor, 'transformer.blocks.1.attn.qkv.weight')?.name, 'En1');
    assert.equal(layerOfParameter(descriptor, 'pooler.dense.weight'), undefined);
    assert.equal(isExecuted(descriptor, 'transformer.blocks.1.attn.qkv.weight', ['En1']), false);
    assert.equal(isExecuted(descriptor, 'transformer.blocks.1.skip_adapter.up.weight', ['En1']), true);
    assert.equal(isExecuted(descriptor, 'transformer.blocks.2.skip_adapter.up.weight', ['En1']), false);
    assert.equal(isExecuted(descriptor, 'transformer.blocks.2.attn.qkv.weight', ['En1']), true);
    assert.equal(isExecuted(descriptor, 'pooler.dense.weight', ['En1']), true);
  });

  it('METER keeps a region out of autograd only while none of its parameters trains', async () => {
    const model = await Model.create('meter', TINY_METER);
    try {
      const batch = {
        input_ids: { dtype: 'int64' as const, shape: [1, 4], data: BigInt64Array.from([0n, 5n, 6n, 2n]) },
        pixel_values: { dtype: 'float32' as const, shape: [1, 3, 32, 32], data: new Float32Array(3 * 32 * 32).fill(0.5) },
        targets: { dtype: 'float32' as const, shape: [1, 7], data: new Float32Array(7) },
      };
      await model.trainStep(batch);
      let counters = await model.counters();
      assert.equal(counters['frozen.vision.graph'], 0);
      assert.equal(counters['frozen.text.layers'], 3);
      // train the vision tower's first block and LEn1: the tower builds a graph, the language encoder runs frozen up to LEn1
      const trainable = model.parameters().filter((p) => p.trainable || p.name.startsWith('vit_model.visual.transformer.resblocks.0.') || p.name.startsWith('text_transformer.encoder.layer.1.attention.'));
      model.setTrainable(trainable.map((p) => p.name));
      await model.trainStep(batch);
      counters = await model.counters();
      assert.equal(counters['frozen.vision.graph'], 1);
      assert.equal(counters['frozen.text.layers'], 1);
      model.setTrainable(null);
      await model.trainStep(batch);
      counters = await model.counters();
      assert.equal(counters['frozen.vision.graph'], 0);
      assert.equal(counters['frozen.text.layers'], 3);
    } finally {
      await model.dispose();
    }
  });
});
