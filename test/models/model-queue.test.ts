import assert from 'node:assert/strict';
import { DasError, Model, type HostTensor, type RobertaConfig } from '../../lib/index.js';
import type { NativeModel } from '../../lib/native/binding.js';

const CONFIG: RobertaConfig = {
  vocabSize: 50, hidden: 32, layers: 2, heads: 4, intermediate: 48, maxPositions: 40, typeVocabSize: 1, padTokenId: 1,
  layerNormEps: 1e-5, hiddenDropout: 0, attentionDropout: 0, numLabels: 3, adapterBottleneck: 4, skipBottleneck: 8, adapterScale: 1,
};

function batch(rows: number, tokens: number): Record<string, HostTensor> {
  return {
    input_ids: { dtype: 'int32', shape: [rows, tokens], data: Int32Array.from({ length: rows * tokens }, (_, i) => 3 + ((i * 7) % 40)) },
    labels: { dtype: 'int32', shape: [rows], data: Int32Array.from({ length: rows }, (_, i) => i % 3) },
  };
}

function changed(before: Record<string, HostTensor>, after: Record<string, HostTensor>): string[] {
  return Object.keys(after).filter((name) => !after[name]!.data.every((v, i) => v === before[name]!.data[i]));
}

describe('model changes go through the model queue', function () {
  this.timeout(120_000);
  const HEAD = 'classifier.out_proj.weight';

  it('a trainable set and an optimizer queued behind a step apply after it, in call order', async () => {
    const model = await Model.create('roberta', CONFIG, { seed: 1 });
    await model.configureOptimizer({ weightDecay: 0 });
    const before = await model.state('all');
    // Nothing awaited in between: the step runs with the adapters and head trainable, then only
    // HEAD trains, and the new optimizer updates it alone.
    const work = [model.trainStep(batch(8, 30)), model.setTrainable([HEAD]), model.configureOptimizer({ weightDecay: 0 }), model.optimizerStep(1e-2)];
    assert.ok(model.parameters().filter((p) => p.trainable).length > 1, 'parameters() answers as of the last settled change');
    await Promise.all(work);
    assert.deepEqual(model.parameters().filter((p) => p.trainable).map((p) => p.name), [HEAD]);
    assert.deepEqual(changed(before, await model.state('all')), [HEAD]);
    await model.dispose();
  });

  it('a refused model change rejects, changes nothing, and the queue goes on', async () => {
    const model = await Model.create('roberta', CONFIG, { seed: 2 });
    const trainable = model.parameters().filter((p) => p.trainable).map((p) => p.name);
    const refused = model.setTrainable([HEAD, 'no.such.parameter']);
    const after = model.evalStep(batch(2, 5));
    await assert.rejects(refused, (error: unknown) => error instanceof DasError && /roberta has no parameter 'no\.such\.parameter'/.test(error.message));
    assert.ok(Number.isFinite((await after).loss));
    assert.deepEqual(model.parameters().filter((p) => p.trainable).map((p) => p.name), trainable);
    await assert.rejects(model.optimizerStep(1e-3), /optimizer step before the optimizer was configured/);
    await assert.rejects(model.configureOptimizer({ eps: -1 }), /Expected a finite number >= 0 for optimizer eps but received -1/);
    await model.dispose();
  });

  it('the addon itself queues model changes behind running steps (for tools that call it directly)', async () => {
    const model = await Model.create('roberta', CONFIG, { seed: 3 });
    const native = (model as unknown as { native: NativeModel }).native;
    const order: string[] = [];
    const track = <T>(name: string, promise: Promise<T>) => promise.then(() => void order.push(name));
    await native.configureOptimizer({ weightDecay: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8, headLrMultiplier: 1 });
    const calls = [
      track('train', native.trainStep(batch(16, 38), [], 1)),
      track('setTrainable', native.setTrainable([HEAD])),
      track('configureOptimizer', native.configureOptimizer({ weightDecay: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8, headLrMultiplier: 1 })),
      track('eval', native.evalStep(batch(2, 5), [], false)),
    ];
    assert.equal(native.parameters().filter((p) => p.trainable).length > 1, true, 'the change has not run yet');
    await Promise.all(calls);
    assert.deepEqual(order, ['train', 'setTrainable', 'configureOptimizer', 'eval']);
    assert.deepEqual(native.parameters().filter((p) => p.trainable).map((p) => p.name), [HEAD]);
    await model.dispose();
  });
});
