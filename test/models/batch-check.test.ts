import assert from 'node:assert/strict';
import { DasError, meterConfigFor, ROBERTA_BASE, VILT_B32, type BatchSpec, type HostTensor } from '../../lib/index.js';
import { checkBatch, type BatchUse } from '../../lib/models/batch-check.js';
import { meterBatchSpec, robertaBatchSpec, viltBatchSpec } from '../../lib/models/batch-spec.js';
import { VL_TASKS } from '../../lib/models/vilt-config.js';
import { exampleSizes, validBatch, withDimension, withElement, type Batch } from '../support/batches.js';

// Every architecture and task, at the published sizes (the check is pure TypeScript: no model is built).
const MODELS: [string, BatchSpec][] = [
  ['roberta mnli', robertaBatchSpec({ ...ROBERTA_BASE, numLabels: 3 })],
  ['roberta sst2', robertaBatchSpec({ ...ROBERTA_BASE, numLabels: 2 })],
  ...VL_TASKS.map((task): [string, BatchSpec] => [`vilt ${task}`, viltBatchSpec({ ...VILT_B32, task })]),
  ...VL_TASKS.map((task): [string, BatchSpec] => [`meter ${task}`, meterBatchSpec(meterConfigFor(task))]),
];

/** The one message format, naming `field`. */
function refused(spec: BatchSpec, batch: unknown, use: BatchUse, field: string | RegExp): void {
  assert.throws(
    () => checkBatch(spec, batch, use),
    (error: unknown) => {
      assert.ok(error instanceof DasError, `not a DasError: ${String(error)}`);
      assert.equal(error.code, 'DAS_INVALID_ARGUMENT');
      assert.match(error.message, /^Expected .+ for .+ but received .+$/s);
      if (typeof field === 'string') assert.ok(error.message.includes(field), `${error.message} does not name ${field}`);
      else assert.match(error.message, field);
      return true;
    },
  );
}

const without = (batch: Batch, ...names: string[]): Batch => Object.fromEntries(Object.entries(batch).filter(([name]) => !names.includes(name)));

for (const [name, spec] of MODELS) {
  describe(`batch check: ${name}`, () => {
    const sizes = exampleSizes(spec);
    const good = validBatch(spec, sizes);
    const targets = spec.fields.filter((f) => f.target).map((f) => f.name);
    const optional = spec.fields.filter((f) => !f.required).map((f) => f.name);

    it('accepts a valid batch for every use, with or without its optional fields', () => {
      for (const use of ['train', 'eval', 'eval-logits', 'profile'] as const) checkBatch(spec, good, use);
      checkBatch(spec, without(good, ...optional.filter((n) => !targets.includes(n))), 'train');
      checkBatch(spec, without(good, ...optional), 'eval-logits');
      checkBatch(spec, without(good, ...optional), 'profile');
    });

    it('refuses a batch that is not an object of tensors', () => {
      for (const bad of [null, undefined, [], new Int32Array(4), 'input_ids']) refused(spec, bad, 'eval', 'batch');
      refused(spec, { ...good, input_ids: [1, 2, 3] }, 'eval', 'batch.input_ids');
    });

    it('names an unknown key and suggests the field meant', () => {
      refused(spec, { ...good, attention_masks: good.attention_mask! }, 'eval', /for batch\.attention_masks but received a field it does not know \(did you mean "attention_mask"\?\)$/);
      refused(spec, { ...without(good, 'input_ids'), input_id: good.input_ids! }, 'eval', /for batch\.input_id but .* \(did you mean "input_ids"\?\)$/);
      refused(spec, { ...good, token_type_ids: good.input_ids! }, 'eval', /for batch\.token_type_ids but received a field it does not know$/);
      const target = targets[0]!;
      refused(spec, { ...without(good, target), [target.slice(0, -1)]: good[target]! }, 'eval-logits', `did you mean "${target}"`);
    });

    it('refuses a missing required field, and a missing target when the step needs one', () => {
      for (const field of spec.fields.filter((f) => f.required)) refused(spec, without(good, field.name), 'eval-logits', `batch.${field.name}`);
      for (const target of targets) {
        refused(spec, without(good, target), 'train', /\(a train step computes its loss from it\)/);
        refused(spec, without(good, target), 'eval', /\(an eval step without logits: true has only the loss to report\)/);
      }
    });

    it('refuses the wrong dtype of every field', () => {
      for (const field of spec.fields) {
        const tensor = good[field.name]!;
        const wrong: HostTensor = field.kind === 'pixels' || field.kind === 'scores'
          ? { dtype: 'int32', shape: tensor.shape, data: new Int32Array(tensor.data.length) }
          : { dtype: 'float32', shape: tensor.shape, data: new Float32Array(tensor.data.length) };
        refused(spec, { ...good, [field.name]: wrong }, 'eval-logits', `batch.${field.name}`);
      }
    });

    it('refuses every field with a dimension that disagrees, or the wrong rank', () => {
      for (const field of spec.fields) {
        for (let dim = 0; dim < field.shape.length; dim++) {
          refused(spec, { ...good, [field.name]: withDimension(good[field.name]!, dim, 1) }, 'eval-logits', /batch\.\w+|rows of batch/);
        }
        const tensor = good[field.name]!;
        refused(spec, { ...good, [field.name]: { ...tensor, shape: [...tensor.shape, 1] } }, 'eval-logits', /batch\./);
      }
    });

    it('refuses more tokens than the position table holds, and empty dimensions', () => {
      const limit = spec.limits.tokens!.max!;
      const long = { ...good, input_ids: withDimension(good.input_ids!, 1, limit + 1 - sizes.get('tokens')!), attention_mask: withDimension(good.attention_mask!, 1, limit + 1 - sizes.get('tokens')!) };
      refused(spec, long, 'eval-logits', new RegExp(`Expected at most ${limit} .*tokens of batch\\.input_ids.* but received ${limit + 1}`));
      refused(spec, { ...good, input_ids: withDimension(good.input_ids!, 1, -sizes.get('tokens')!) }, 'eval-logits', 'batch.input_ids');
      refused(spec, { ...good, input_ids: withDimension(good.input_ids!, 0, -sizes.get('rows')!) }, 'eval-logits', 'batch.input_ids');
    });

    it('refuses ids outside their range: token ids past the vocabulary, labels past the classes, negatives', () => {
      for (const field of spec.fields.filter((f) => f.kind === 'ids')) {
        const max = typeof field.max === 'number' ? field.max : sizes.get(field.max!)!;
        const last = good[field.name]!.data.length - 1;
        refused(spec, { ...good, [field.name]: withElement(good[field.name]!, last, max) }, 'eval', new RegExp(`in \\[0, ${max}\\).* for batch\\.${field.name} but received ${max} at \\[`));
        refused(spec, { ...good, [field.name]: withElement(good[field.name]!, 0, -1) }, 'eval', `batch.${field.name} but received -1 at [0`);
        const int64 = { dtype: 'int64', shape: good[field.name]!.shape, data: BigInt64Array.from(good[field.name]!.data as Int32Array, BigInt) } as HostTensor;
        checkBatch(spec, { ...good, [field.name]: int64 }, 'eval');
        refused(spec, { ...good, [field.name]: withElement(int64, 0, max + 5) }, 'eval', `batch.${field.name} but received ${max + 5} at [0`);
      }
    });

    it('refuses scores outside [0, 1]; a mask keeps every non-zero position, as the addon reads it', () => {
      for (const field of spec.fields.filter((f) => f.kind === 'mask')) checkBatch(spec, { ...good, [field.name]: withElement(good[field.name]!, 1, 7) }, 'eval');
      for (const field of spec.fields.filter((f) => f.kind === 'scores')) {
        for (const bad of [1.5, -0.1, Number.NaN, Number.POSITIVE_INFINITY]) refused(spec, { ...good, [field.name]: withElement(good[field.name]!, 3, bad) }, 'eval', `batch.${field.name} but received ${bad}`);
      }
    });
  });
}
