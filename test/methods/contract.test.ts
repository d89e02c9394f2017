/**
 * The contract every method keeps on every architecture (tiny configurations), with and without a
 * skipped layer: only its parameters train; its parameter counts and FLOPs equal the analytic
 * formulas (the FLOPs as the profiler measures a real forward pass); save -> load and export ->
 * load give the same outputs; a method whose modules start at zero starts as the pre-trained model.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Prng } from '../../lib/das/prng.js';
import type { HostTensor } from '../../lib/host-tensor.js';
import { exportedMethod, METHOD_NAMES, resolveMethod, type MethodConfig, type MethodName } from '../../lib/methods/index.js';
import { resolveRunMethod } from '../../lib/methods/run-method.js';
import { loadAdapters, saveAdapters } from '../../lib/models/adapter-checkpoint.js';
import { isExecuted } from '../../lib/models/architecture.js';
import { robertaBuiltParams, robertaFlops } from '../../lib/models/flops.js';
import { Model, type Architecture, type ConfigByArchitecture } from '../../lib/models/model.js';
import { withoutAdapters } from '../../lib/models/pretrained-any.js';
import { ROBERTA_BASE, type RobertaConfig } from '../../lib/models/roberta-config.js';
import { meterBuiltParams, meterFlops, viltBuiltParams, viltFlops } from '../../lib/models/vl-flops.js';
import { maxRelativeError } from '../support/tensors.js';
import { TINY_METER, TINY_VILT, imageBatch, randomImage, randomize, sameBytes, textBatch, type Batch } from '../support/vl.js';

const TINY_ROBERTA: RobertaConfig = { ...ROBERTA_BASE, vocabSize: 60, hidden: 32, layers: 3, heads: 4, intermediate: 48, maxPositions: 20, numLabels: 3, adapterBottleneck: 4, skipBottleneck: 6 };

const prng = new Prng(31);
const int64 = (values: number[]): HostTensor<'int64'> => ({ dtype: 'int64', shape: [values.length], data: BigInt64Array.from(values.map(BigInt)) });

interface Case<A extends Architecture> {
  config: ConfigByArchitecture[A];
  /** A training batch, and one example for the profiler with the tokens the analytic count takes. */
  batch: Batch;
  one: Batch;
  skip: string;
  built(config: ConfigByArchitecture[A], method: MethodConfig): { total: number; updated: number };
  flops(config: ConfigByArchitecture[A], method: MethodConfig, skip: string[]): { layers: { name: string; flops: number }[]; flops: number };
}

const robertaText = textBatch([6, 4], 6, prng, 60, 1);
const viltText = textBatch([6, 4], 6, prng, 60, 0);
const CASES: { [A in Architecture]: Case<A> } = {
  roberta: {
    config: TINY_ROBERTA,
    batch: { ...robertaText, labels: int64([2, 0]) },
    one: textBatch([6], 6, prng, 60, 1),
    skip: 'En1',
    built: (config, method) => ({ total: robertaBuiltParams(config, method), updated: robertaFlops(config, { tokens: 1, method }).built.updated }),
    flops: (config, method, skip) => robertaFlops(config, { tokens: 6, skip, method, loraMerged: false }),
  },
  vilt: {
    config: TINY_VILT,
    batch: { ...viltText, ...imageBatch([randomImage(32, 32, prng), randomImage(32, 32, prng)]), targets: { dtype: 'float32', shape: [2, 7], data: Float32Array.from({ length: 14 }, () => prng.nextDouble()) } },
    one: { ...textBatch([6], 6, prng, 60, 0), ...imageBatch([randomImage(32, 40, prng)]) },
    skip: 'En1',
    built: (config, method) => viltBuiltParams(config, method),
    flops: (config, method, skip) => viltFlops(config, { textTokens: 6, height: 32, width: 40, skip, method, loraMerged: false }),
  },
  meter: {
    config: TINY_METER,
    batch: {
      ...robertaText,
      pixel_values: { dtype: 'float32', shape: [2, 3, 32, 32], data: Float32Array.from({ length: 2 * 3 * 32 * 32 }, () => prng.nextDouble() - 0.5) },
      targets: { dtype: 'float32', shape: [2, 7], data: Float32Array.from({ length: 14 }, () => prng.nextDouble()) },
    },
    one: { ...textBatch([6], 6, prng, 60, 1), pixel_values: { dtype: 'float32', shape: [1, 3, 32, 32], data: Float32Array.from({ length: 3 * 32 * 32 }, () => prng.nextDouble()) } },
    skip: 'FV0',
    built: (config, method) => meterBuiltParams(config, method),
    flops: (config, method, skip) => meterFlops(config, { textTokens: 6, skip, method, loraMerged: false }),
  },
};

/** The tiny methods: small sizes so every module is exercised quickly. */
function tinyMethod(name: MethodName, skip: string[]): MethodConfig {
  const options: Record<MethodName, object> = {
    full: {},
    bitfit: {},
    lora: { r: 2, alpha: 4, dropout: 0.1, targets: ['query', 'value', 'ffn_out'] },
    adapter: { bottleneck: 3 },
    prefix: { length: 2 },
    mam: { prefixLength: 2, bottleneck: 3 },
    das: {},
  };
  return resolveRunMethod({ name, ...options[name] } as Partial<MethodConfig>, { mode: 'train', skip });
}

/** The model without any method module (DAS at size 0), METER keeping its token4classifier. */
function plainConfig<A extends Architecture>(architecture: A, config: ConfigByArchitecture[A]): ConfigByArchitecture[A] {
  const none = withoutAdapters(architecture, config);
  return architecture === 'meter' ? ({ ...none, classifierToken: true } as ConfigByArchitecture[A]) : none;
}

function changed(before: Record<string, HostTensor>, after: Record<string, HostTensor>): Set<string> {
  return new Set(Object.keys(before).filter((name) => !sameBytes(before[name]!, after[name]!)));
}


for (const architecture of Object.keys(CASES) as Architecture[]) {
  const c = CASES[architecture] as Case<Architecture>;
  describe(`method contract: ${architecture}`, function () {
    this.timeout(600_000);
    // one random "pre-trained" backbone shared by every method of this architecture
    let backbone: Record<string, HostTensor>;
    before(async () => {
      const model = await Model.create(architecture, withoutAdapters(architecture, c.config), { seed: 3 });
      const state = await randomize(model, 11);
      backbone = Object.fromEntries(Object.entries(state).filter(([name]) => model.parameters().find((p) => p.name === name)!.role !== 'method'));
      await model.dispose();
    });

    const create = async (method: MethodConfig, seed = 1): Promise<Model> => {
      const model = await Model.create(architecture, c.config, { seed, method });
      await model.loadState(backbone, { strict: false });
      return model;
    };

    for (const name of METHOD_NAMES) {
      for (const skip of [[], [c.skip]]) {
        const label = `${name}, skip [${skip.join(',')}]`;
        it(`${label}: only its parameters train, counts and FLOPs equal the formulas`, async () => {
          const method = tinyMethod(name, skip);
          const model = await create(method);
          try {
            // the one definition of trainable, as the addon reports it, against the analytic count
            const counts = model.parameterCounts();
            const built = c.built(c.config, method);
            assert.equal(counts.total, built.total, 'total parameters');
            assert.equal(counts.updated, built.updated, 'trainable parameters outside the head');
            const trainable = new Set(model.parameters().filter((p) => p.trainable).map((p) => p.name));
            for (const p of model.parameters()) {
              const expected = name === 'full' ? p.role !== 'frozen_head' : ['method', 'task', 'head'].includes(p.role) || (name === 'bitfit' && p.role === 'pretrained' && p.name.endsWith('.bias') && model.describe().layers.some((l) => l.adapted && p.name.startsWith(l.prefix)));
              assert.equal(p.trainable, expected, `${p.name} (${p.role})`);
            }
            // two steps: frozen tensors never move, trained ones do
            await model.configureOptimizer({ weightDecay: 0.01 });
            const before = await model.state('all');
            for (let i = 0; i < 2; i++) {
              await model.trainStep(c.batch, { skip });
              await model.optimizerStep(1e-2);
            }
            const moved = changed(before, await model.state('all'));
            for (const name of moved) assert.ok(trainable.has(name), `${name} changed but is frozen`);
            assert.ok(moved.size > 0, 'something trained');
            // FLOPs: the analytic count (LoRA unmerged) is what the profiler measures on a real forward
            const profile = await model.profileFlops(c.one, skip);
            const analytic = c.flops(c.config, method, skip);
            for (const layer of analytic.layers) assert.equal(profile.layers[layer.name], layer.flops, `${layer.name} FLOPs`);
            assert.equal(profile.total, analytic.flops, 'total FLOPs');
          } finally {
            await model.dispose();
          }
        });

        it(`${label}: save -> load and export -> load give the same outputs`, async () => {
          const method = tinyMethod(name, skip);
          const model = await create(method);
          const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'das-contract-'));
          try {
            await model.configureOptimizer({});
            await model.trainStep(c.batch, { skip });
            await model.optimizerStep(1e-2);
            const expected = (await model.evalStep(c.batch, { skip, logits: true })).logits!;
            // our adapter format, into a fresh model (another seed: nothing matches by chance)
            await saveAdapters(model, dir, { skipped: skip });
            const loaded = await create(method, 9);
            await loadAdapters(loaded, dir);
            assert.ok(sameBytes((await loaded.evalStep(c.batch, { skip, logits: true })).logits!, expected), 'save -> load: identical logits');
            await loaded.dispose();
            // the export: LoRA merged, only the executed tensors, rebuilt from them alone
            await model.mergeLora();
            const descriptor = model.describe();
            const state = await model.state('all');
            const kept = Object.fromEntries(Object.entries(state).filter(([n]) => isExecuted(descriptor, n, skip)));
            const exported = await Model.create(architecture, c.config, { seed: 7, method: exportedMethod(method) });
            const report = await exported.loadState(kept, { strict: false });
            assert.deepEqual(report.unexpected, []);
            assert.ok(report.missing.every((n) => !isExecuted(descriptor, n, skip)), `only unused tensors missing: ${report.missing.filter((n) => isExecuted(descriptor, n, skip))}`);
            const logits = (await exported.evalStep(c.batch, { skip, logits: true })).logits!;
            if (name === 'lora') assert.ok(maxRelativeError(logits.data, Array.from(expected.data)) < 1e-5, 'merged LoRA: same logits up to rounding');
            else assert.ok(sameBytes(logits, expected), 'export -> load: identical logits');
            await exported.dispose();
          } finally {
            await model.dispose();
            fs.rmSync(dir, { recursive: true, force: true });
          }
        });
      }
    }

    for (const name of ['full', 'bitfit', 'lora', 'adapter'] as const) {
      it(`${name} starts as the pre-trained model exactly (zero-start modules)`, async () => {
        const plain = await Model.create(architecture, plainConfig(architecture, c.config), { seed: 3 });
        await plain.loadState(backbone, { strict: false });
        const model = await create(resolveMethod({ ...tinyMethod(name, []), skipBottleneck: 0 }), 5);
        try {
          const a = (await plain.evalStep(c.batch, { logits: true })).logits!;
          const b = (await model.evalStep(c.batch, { logits: true })).logits!;
          assert.ok(sameBytes(a, b), 'bit-identical logits');
        } finally {
          await plain.dispose();
          await model.dispose();
        }
      });
    }
  });
}
