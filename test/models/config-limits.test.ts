import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  DasError, METER_CLIP16_ROBERTA, meterConfigFor, Model, ROBERTA_BASE, robertaConfigFromHf, validateMeterConfig, validateRobertaConfig,
  validateViltConfig, VILT_B32, viltConfigFromHf, type MeterConfig, type RobertaConfig, type ViltConfig,
} from '../../lib/index.js';
import { resolveMethod } from '../../lib/methods/index.js';
import { loadBinding } from '../../lib/native/binding.js';
import { checkModelFits, estimateModelMemory, modelParameters } from '../../lib/models/memory-estimate.js';
import { SIZE_LIMITS } from '../../lib/models/size-limits.js';
import { cgroupMemoryLeft } from '../../lib/util/host-memory.js';
import { repoRoot } from '../support/repo.js';

function refusedNaming(run: () => unknown, field: string | RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof DasError, String(error));
    assert.equal(error.code, 'DAS_INVALID_ARGUMENT');
    assert.match(error.message, /^Expected .+ for .+ but received .+/s);
    if (typeof field === 'string') assert.ok(error.message.includes(field), `${error.message} does not name ${field}`);
    else assert.match(error.message, field);
    return true;
  });
}

// Every size field of every architecture, one above its limit.
const ROBERTA_LIMITS: [keyof RobertaConfig, number][] = [
  ['vocabSize', SIZE_LIMITS.vocabSize], ['hidden', SIZE_LIMITS.hidden], ['layers', SIZE_LIMITS.layers], ['heads', SIZE_LIMITS.heads],
  ['intermediate', SIZE_LIMITS.intermediate], ['maxPositions', SIZE_LIMITS.positions], ['typeVocabSize', SIZE_LIMITS.tokenTypes],
  ['numLabels', SIZE_LIMITS.classes], ['adapterBottleneck', SIZE_LIMITS.bottleneck], ['skipBottleneck', SIZE_LIMITS.bottleneck],
];
const VILT_LIMITS: [keyof ViltConfig, number][] = [
  ['vocabSize', SIZE_LIMITS.vocabSize], ['hidden', SIZE_LIMITS.hidden], ['layers', SIZE_LIMITS.layers], ['heads', SIZE_LIMITS.heads],
  ['mlp', SIZE_LIMITS.intermediate], ['maxTextLen', SIZE_LIMITS.positions], ['typeVocabSize', SIZE_LIMITS.tokenTypes],
  ['imageSize', SIZE_LIMITS.imageSize], ['numAnswers', SIZE_LIMITS.classes], ['adapterBottleneck', SIZE_LIMITS.bottleneck], ['skipBottleneck', SIZE_LIMITS.bottleneck],
];
const METER_LIMITS: [string, number][] = [
  ['hidden', SIZE_LIMITS.hidden], ['fusionLayers', SIZE_LIMITS.layers], ['heads', SIZE_LIMITS.heads], ['intermediate', SIZE_LIMITS.intermediate],
  ['numAnswers', SIZE_LIMITS.classes], ['adapterBottleneck', SIZE_LIMITS.bottleneck], ['skipBottleneck', SIZE_LIMITS.bottleneck],
  ['featureCacheBytes', Number.MAX_SAFE_INTEGER], ['vision.hidden', SIZE_LIMITS.hidden], ['vision.layers', SIZE_LIMITS.layers],
  ['vision.heads', SIZE_LIMITS.heads], ['vision.mlp', SIZE_LIMITS.intermediate], ['vision.imageSize', SIZE_LIMITS.imageSize],
  ['text.vocabSize', SIZE_LIMITS.vocabSize], ['text.layers', SIZE_LIMITS.layers], ['text.maxPositions', SIZE_LIMITS.positions],
];

function meterWith(field: string, value: number): MeterConfig {
  const [outer, inner] = field.split('.') as [keyof MeterConfig, string | undefined];
  const base = meterConfigFor('vqa');
  return (inner ? { ...base, [outer]: { ...(base[outer] as object), [inner]: value } } : { ...base, [outer]: value }) as MeterConfig;
}

describe('configuration sizes have upper bounds', () => {
  it('every RoBERTa, ViLT and METER size field is refused above its limit, naming it', () => {
    for (const [field, limit] of ROBERTA_LIMITS) refusedNaming(() => validateRobertaConfig({ ...ROBERTA_BASE, [field]: limit + 1 }), `RoBERTa config: ${field} but received ${limit + 1}`);
    for (const [field, limit] of VILT_LIMITS) refusedNaming(() => validateViltConfig({ ...VILT_B32, [field]: limit + 1 }), `ViLT config: ${field} but received ${limit + 1}`);
    for (const [field, limit] of METER_LIMITS) refusedNaming(() => validateMeterConfig(meterWith(field, limit + 1)), new RegExp(`METER config: ${field.replace('.', '(: |\\.)')}.* but received ${limit + 1}`));
  });

  it("config.json typos are refused naming the file and field: num_hidden_layers 100000, hidden_size 1e12, Infinity eps, a pad id past the vocabulary", () => {
    refusedNaming(() => robertaConfigFromHf({ num_hidden_layers: 100000 }, '/models/x/config.json'), '/models/x/config.json: layers but received 100000');
    refusedNaming(() => robertaConfigFromHf({ hidden_size: 1e12 }, 'config.json'), 'config.json: hidden but received 1000000000000');
    refusedNaming(() => viltConfigFromHf({ intermediate_size: 1e9 }, 'vilt/config.json'), 'vilt/config.json: mlp');
    refusedNaming(() => robertaConfigFromHf({ layer_norm_eps: 1e400 }, 'config.json'), 'config.json: layerNormEps but received Infinity');
    refusedNaming(() => robertaConfigFromHf({ pad_token_id: 50265 }, 'config.json'), 'config.json: padTokenId');
    refusedNaming(() => robertaConfigFromHf({ max_position_embeddings: 2 }, 'config.json'), 'config.json: maxPositions');
    refusedNaming(() => validateRobertaConfig({ ...ROBERTA_BASE, adapterScale: Number.NaN }), 'adapterScale');
  });

  it('the published models are within the limits', () => {
    validateRobertaConfig({ ...ROBERTA_BASE, hidden: 1024, layers: 24, heads: 16, intermediate: 4096, vocabSize: 250002 }); // roberta-large, XLM-R vocabulary
    validateViltConfig({ ...VILT_B32 });
    validateMeterConfig(meterConfigFor('nlvr2'));
  });
});

describe('the memory a model needs is estimated before it is built', function () {
  this.timeout(120_000);
  const small = { bytes: 2e9, source: 'RAM available' };

  it('estimates exactly the parameters the addon builds', async () => {
    const tiny: RobertaConfig = { ...ROBERTA_BASE, vocabSize: 120, hidden: 32, layers: 3, heads: 4, intermediate: 48, maxPositions: 30 };
    const model = await Model.create('roberta', tiny);
    assert.equal(estimateModelMemory('roberta', tiny).parameters, model.parameterCounts().total);
    assert.equal(estimateModelMemory('roberta', tiny).bytes, 4 * model.parameterCounts().total);
    await model.dispose();
    assert.equal(modelParameters('vilt', VILT_B32), estimateModelMemory('vilt', VILT_B32).parameters);
  });

  it('refuses what cannot fit, naming the size field that weighs most and the estimate', () => {
    const cases: [Parameters<typeof checkModelFits>[0], Parameters<typeof checkModelFits>[1], string][] = [
      ['roberta', { ...ROBERTA_BASE, layers: 200 }, 'layers (200; the published model has 12)'],
      ['roberta', { ...ROBERTA_BASE, vocabSize: 1_000_000 }, 'vocabSize (1000000; the published model has 50265)'],
      ['roberta', { ...ROBERTA_BASE, hidden: 4096, heads: 32 }, 'hidden (4096; the published model has 768)'],
      ['vilt', { ...VILT_B32, mlp: 60_000 }, 'mlp (60000; the published model has 3072)'],
      ['vilt', { ...VILT_B32, numAnswers: 1_000_000 }, 'numAnswers (1000000; the published model has 3129)'],
      ['meter', meterConfigFor('vqa', { fusionLayers: 100 }), 'fusionLayers (100; the published model has 6)'],
      ['meter', meterWith('text.layers', 300), 'text.layers (300; the published model has 12)'],
      ['meter', meterWith('vision.mlp', 60_000), 'vision.mlp (60000; the published model has 3072)'],
    ];
    for (const [arch, config, named] of cases) {
      refusedNaming(() => checkModelFits(arch, config, { source: `${arch} config`, device: 'cpu', hostAvailable: small }), named);
      refusedNaming(() => checkModelFits(arch, config, { source: 'c', device: 'cpu', hostAvailable: small }), /the 2\.0 GB RAM available on this host .* but received an estimated [\d.]+ GB of weights \([\d,]+ float32 parameters, \d+% of them from /);
    }
    checkModelFits('roberta', ROBERTA_BASE, { source: 'c', device: 'cpu', hostAvailable: small }); // 0.5 GB fits
  });

  it('refuses a model the CUDA device has no room for, and DAS_MEMORY_CHECK=0 turns the check off', () => {
    refusedNaming(() => checkModelFits('meter', METER_CLIP16_ROBERTA, { source: 'c', device: 'cuda:1', deviceFree: 1e8, hostAvailable: { bytes: 1e12, source: 'RAM available' } }), 'the 100.0 MB free on cuda:1');
    checkModelFits('meter', METER_CLIP16_ROBERTA, { source: 'c', device: 'cuda:1', deviceFree: null, hostAvailable: { bytes: 1e12, source: 'RAM available' } });
    process.env.DAS_MEMORY_CHECK = '0';
    try {
      checkModelFits('roberta', { ...ROBERTA_BASE, layers: 500 }, { source: 'c', device: 'cpu', hostAvailable: small });
    } finally {
      delete process.env.DAS_MEMORY_CHECK;
    }
  });

  it('Model.create refuses a model no machine here can hold, before the addon allocates anything', async () => {
    const huge: RobertaConfig = { ...ROBERTA_BASE, vocabSize: SIZE_LIMITS.vocabSize, hidden: SIZE_LIMITS.hidden, heads: 128, intermediate: SIZE_LIMITS.intermediate, layers: SIZE_LIMITS.layers };
    await assert.rejects(Model.create('roberta', huge), /Expected a model that fits in the .* for RoBERTa config: .* but received an estimated [\d.]+ TB of weights/);
    assert.equal(loadBinding().binding.deviceMemory('cpu'), null, 'the CPU has no device memory of its own');
  });

  it('the addon bounds sizes itself, and names an allocation that fails', () => {
    const { binding } = loadBinding();
    assert.throws(() => binding.createModel('roberta', { ...ROBERTA_BASE, layers: 2_000_000 }, 'cpu', 0, resolveMethod(undefined)), /Expected an integer in \[0, 1048576\] for config\.layers but received 2000000/);
    assert.throws(() => binding.createModel('roberta', { ...ROBERTA_BASE, hidden: -5 }, 'cpu', 0, resolveMethod(undefined)), /for config\.hidden but received -5/);
    // An 8.6 GB embedding table under a 5 GB address-space limit: the allocation fails at once, nothing is touched.
    const script = `import { Model, ROBERTA_BASE } from ${JSON.stringify(path.join(repoRoot, 'dist/lib/index.js'))};
      await Model.create('roberta', { ...ROBERTA_BASE, vocabSize: 1 << 20, hidden: 2048, heads: 16, layers: 1 }).then(() => console.log('built'), (e) => console.log(e.code + ': ' + e.message));`;
    // A sanitizer run (scripts/test/native-sanitizers.sh) cannot live under an address-space limit:
    // the child then uses the normal addon, without the preloaded runtime.
    const env: NodeJS.ProcessEnv = { ...process.env, DAS_MEMORY_CHECK: '0', LD_PRELOAD: '' };
    if (process.env.LD_PRELOAD?.includes('asan')) delete env.DAS_ADDON_PATH;
    const child = spawnSync('bash', ['-c', `ulimit -v 5000000 && exec "${process.execPath}" --input-type=module -e "$0"`, script], { encoding: 'utf8', env, timeout: 120_000 });
    assert.equal(child.status, 0, child.stderr);
    assert.match(child.stdout, /^DAS_NATIVE: not enough memory on cpu to build the roberta model \(an allocation of 8589934592 bytes failed\); check the sizes in its configuration$/m);
  });
});

describe('host memory', () => {
  it('reads what is left of a cgroup v2 or v1 memory limit, and no limit as none', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'das-cgroup-'));
    assert.equal(cgroupMemoryLeft(root), undefined);
    fs.writeFileSync(path.join(root, 'memory.max'), 'max\n');
    assert.equal(cgroupMemoryLeft(root), undefined);
    fs.mkdirSync(path.join(root, 'memory'));
    fs.writeFileSync(path.join(root, 'memory/memory.limit_in_bytes'), '9223372036854771712\n');
    assert.equal(cgroupMemoryLeft(root), undefined, 'v1 says "no limit" with a huge number');
    fs.writeFileSync(path.join(root, 'memory/memory.limit_in_bytes'), '4000000000\n');
    fs.writeFileSync(path.join(root, 'memory/memory.usage_in_bytes'), '1000000000\n');
    assert.equal(cgroupMemoryLeft(root), 3_000_000_000);
    fs.writeFileSync(path.join(root, 'memory.max'), '2000000000\n');
    fs.writeFileSync(path.join(root, 'memory.current'), '500000000\n');
    assert.equal(cgroupMemoryLeft(root), 1_500_000_000, 'v2 first');
    fs.rmSync(root, { recursive: true });
  });
});
