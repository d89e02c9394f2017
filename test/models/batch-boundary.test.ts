import assert from 'node:assert/strict';
import { DasError, Model, type Architecture, type ConfigByArchitecture, type HostTensor, type RobertaConfig } from '../../lib/index.js';
import type { NativeBatch, NativeModel } from '../../lib/native/binding.js';
import { callAsync } from '../../lib/native/call.js';
import { VL_TASKS } from '../../lib/models/vilt-config.js';
import { validBatch, withElement, type Batch } from '../support/batches.js';
import { TINY_METER, TINY_VILT } from '../support/vl.js';

const TINY_ROBERTA: RobertaConfig = {
  vocabSize: 50, hidden: 32, layers: 2, heads: 4, intermediate: 48, maxPositions: 20, typeVocabSize: 1, padTokenId: 1,
  layerNormEps: 1e-5, hiddenDropout: 0, attentionDropout: 0, numLabels: 3, adapterBottleneck: 4, skipBottleneck: 8, adapterScale: 1,
};

const MODELS: { name: string; arch: Architecture; config: ConfigByArchitecture[Architecture] }[] = [
  { name: 'roberta', arch: 'roberta', config: TINY_ROBERTA },
  ...VL_TASKS.map((task) => ({ name: `vilt ${task}`, arch: 'vilt' as const, config: { ...TINY_VILT, task } })),
  ...VL_TASKS.map((task) => ({ name: `meter ${task}`, arch: 'meter' as const, config: { ...TINY_METER, task } })),
];

/** libtorch's own wording, which a user must never see. */
const RAW_LIBTORCH = /index out of range in self|out of bounds|Exception raised from|The size of tensor a|Expected all tensors|c10::/;

/** Calls the addon directly, past the TypeScript checks: what another tool linking the addon would do. */
function native(model: Model): NativeModel {
  return (model as unknown as { native: NativeModel }).native;
}

describe('batches at the model boundary (real models)', function () {
  this.timeout(300_000);

  for (const { name, arch, config } of MODELS) {
    describe(name, () => {
      let model: Model;
      let good: Batch;
      before(async () => {
        model = await Model.create(arch, config, { seed: 3 });
        good = validBatch(model.batchSpec);
      });
      after(() => model.dispose());
      const targets = () => model.batchSpec.fields.filter((f) => f.target).map((f) => f.name);
      const withoutTargets = () => Object.fromEntries(Object.entries(good).filter(([key]) => !targets().includes(key))) as NativeBatch;

      it('trains on a valid batch; an eval step without targets gives logits and no loss', async () => {
        const trained = await model.trainStep(good);
        assert.ok(Number.isFinite(trained.loss));
        const evaluated = await model.evalStep(withoutTargets(), { logits: true });
        assert.equal('loss' in evaluated, false, 'no targets, no loss (it used to say 0)');
        assert.deepEqual(evaluated.parts, {});
        assert.ok(evaluated.logits!.data.every(Number.isFinite));
        const scored = await model.evalStep(good, { logits: true });
        assert.ok(Number.isFinite(scored.loss));
      });

      it('rejects (never throws synchronously) a batch the step cannot use, before it reaches the addon', async () => {
        const typo = { ...good, attention_masks: good.attention_mask! };
        const refusals = [
          model.evalStep(withoutTargets()),
          model.trainStep(withoutTargets()),
          model.evalStep(typo, { logits: true }),
          model.trainStep({ ...good, input_ids: { dtype: 'float32', shape: good.input_ids!.shape, data: new Float32Array(good.input_ids!.data.length) } }),
          model.profileFlops({ ...good, input_ids: withElement(good.input_ids!, 0, 1_000_000) }),
        ];
        for (const refusal of refusals) {
          await assert.rejects(refusal, (error: unknown) => error instanceof DasError && error.code === 'DAS_INVALID_ARGUMENT' && /^Expected .+ for batch/.test(error.message));
        }
        assert.ok(Number.isFinite((await model.evalStep(good)).loss), 'the model still works after the refusals');
      });

      it('answers a direct call of the addon with a clean message naming the field, never libtorch text', async () => {
        const vocab = model.batchSpec.fields.find((f) => f.name === 'input_ids')!.max as number;
        const bad: [string, NativeBatch, RegExp][] = [
          ['a token id past the vocabulary', { ...good, input_ids: withElement(good.input_ids!, 1, vocab) }, new RegExp(`token ids in \\[0, ${vocab}\\).*input_ids.*from \\d+ to ${vocab}`)],
          ['a negative token id', { ...good, input_ids: withElement(good.input_ids!, 0, -3) }, /token ids in \[0, \d+\).*input_ids.*from -3/],
          ['float token ids', { ...good, input_ids: { dtype: 'float32', shape: good.input_ids!.shape, data: new Float32Array(good.input_ids!.data.length) } }, /input_ids must hold integers/],
          ['a missing input_ids', Object.fromEntries(Object.entries(good).filter(([k]) => k !== 'input_ids')), /missing the field 'input_ids'/],
          ['too many tokens', { input_ids: { dtype: 'int32', shape: [1, 200], data: new Int32Array(200).fill(3) } }, /input_ids has 200 tokens; this model takes at most \d+/],
        ];
        const classes = model.batchSpec.fields.find((f) => f.name === 'labels' && typeof f.max === 'number');
        if (classes) bad.push(['a label past the classes', { ...good, labels: withElement(good.labels!, 0, classes.max as number) }, /labels must lie in \[0, \d+\)/]);
        for (const [what, batch, message] of bad) {
          await assert.rejects(
            callAsync(() => native(model).trainStep(batch, [], 1)),
            (error: unknown) => {
              assert.ok(error instanceof DasError, what);
              assert.doesNotMatch(error.message, RAW_LIBTORCH, `${what}: ${error.message}`);
              assert.match(error.message, message, what);
              return true;
            },
          );
        }
      });
    });
  }

  it('keeps the batch dtype checks of the host tensors themselves', async () => {
    const model = await Model.create('roberta', TINY_ROBERTA);
    const broken = { input_ids: { dtype: 'int32', shape: [2, 3], data: new Int32Array(5) } as HostTensor };
    await assert.rejects(model.evalStep(broken, { logits: true }), /Expected 6 elements for shape \[2,3\] for batch\.input_ids\.data but received "5 elements"/);
    await model.dispose();
  });
});
