import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Prng } from '../../lib/das/prng.js';
import { DasError } from '../../lib/errors.js';
import type { HostTensor } from '../../lib/host-tensor.js';
import { ADAPTER_SIDECAR, ADAPTER_TENSORS, loadAdapters, saveAdapters } from '../../lib/models/adapter-checkpoint.js';
import { Model } from '../../lib/models/model.js';
import { ROBERTA_BASE, type RobertaConfig } from '../../lib/models/roberta-config.js';
import { readCheckpoint } from '../../lib/native/checkpoint.js';
import { int64Tensor, randomFloat32 } from '../support/tensors.js';

const tiny: RobertaConfig = { ...ROBERTA_BASE, vocabSize: 50, hidden: 16, layers: 3, heads: 2, intermediate: 24, maxPositions: 12, numLabels: 2, adapterBottleneck: 4, skipBottleneck: 4 };
const batch = { input_ids: int64Tensor([2, 5], [0, 7, 8, 9, 2, 0, 11, 2, 1, 1]), attention_mask: int64Tensor([2, 5], [1, 1, 1, 1, 1, 1, 1, 1, 0, 0]), labels: int64Tensor([2], [1, 0]) };

async function modelWithBackbone(seed: number, backbone: Record<string, HostTensor>): Promise<Model> {
  const model = await Model.create('roberta', tiny, { seed });
  await model.loadState(backbone, { strict: true, expect: 'pretrained' });
  return model;
}

describe('adapter checkpoints (safetensors + JSON sidecar)', () => {
  let dir: string;
  let backbone: Record<string, HostTensor>;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'das-adapters-'));
    const prng = new Prng(4);
    const probe = await Model.create('roberta', tiny);
    backbone = Object.fromEntries(probe.parameters().filter((p) => !p.trainable).map((p) => [p.name, randomFloat32(p.shape, prng)]));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('save then load gives identical outputs, and holds only trainable tensors', async () => {
    const trained = await modelWithBackbone(1, backbone);
    await trained.configureOptimizer();
    for (let i = 0; i < 3; i++) {
      await trained.trainStep(batch, { skip: ['En1'] });
      await trained.optimizerStep(5e-2);
    }
    const sidecar = await saveAdapters(trained, dir, { skipped: ['En1'], task: 'sst2' });
    assert.deepEqual(sidecar.layerNames, ['En0', 'En1', 'En2']);
    const saved = await readCheckpoint(path.join(dir, ADAPTER_TENSORS));
    const trainable = trained.parameters().filter((p) => p.trainable).map((p) => p.name).sort();
    assert.deepEqual([...saved.names].sort(), trainable);
    assert.equal(saved.metadata.format, 'das-torch-adapters');

    const restored = await modelWithBackbone(2, backbone); // other seed: other initial adapters
    const before = await restored.evalStep(batch, { skip: ['En1'], logits: true });
    const loaded = await loadAdapters(restored, dir);
    assert.deepEqual(loaded.skipped, ['En1']);
    const expected = await trained.evalStep(batch, { skip: ['En1'], logits: true });
    const actual = await restored.evalStep(batch, { skip: ['En1'], logits: true });
    assert.deepEqual(Array.from(actual.logits!.data), Array.from(expected.logits!.data));
    assert.notDeepEqual(Array.from(before.logits!.data), Array.from(expected.logits!.data));
  });

  it('refuses adapters of a differently configured model, naming the field', async () => {
    await saveAdapters(await modelWithBackbone(1, backbone), dir, { skipped: [] });
    const other = await Model.create('roberta', { ...tiny, skipBottleneck: 8 });
    await assert.rejects(loadAdapters(other, dir), /differently configured model \(skipBottleneck: model 8, saved 4\)/);
  });

  it('refuses a folder without a sidecar, and a truncated tensor file', async () => {
    const model = await modelWithBackbone(1, backbone);
    await assert.rejects(loadAdapters(model, dir), /adapters\.json does not exist/);
    await saveAdapters(model, dir, { skipped: [] });
    const tensors = path.join(dir, ADAPTER_TENSORS);
    fs.truncateSync(tensors, fs.statSync(tensors).size - 10);
    await assert.rejects(loadAdapters(model, dir), (err: unknown) => err instanceof DasError && err.code === 'DAS_CHECKPOINT');
    assert.ok(fs.existsSync(path.join(dir, ADAPTER_SIDECAR)));
  });
});
