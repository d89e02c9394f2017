import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DasError } from '../../lib/errors.js';
import type { HostTensor } from '../../lib/host-tensor.js';
import { Model } from '../../lib/models/model.js';
import { viltConfigFromHf } from '../../lib/models/vilt-config.js';
import { readCheckpoint, writeSafetensors } from '../../lib/native/checkpoint.js';
import { repoRoot } from '../support/repo.js';
import { maxRelativeError } from '../support/tensors.js';
import { TINY_METER, TINY_VILT, sameBytes } from '../support/vl.js';

function row(tensor: HostTensor, r: number): number[] {
  const width = tensor.shape[1]!;
  return Array.from((tensor.data as Float32Array).subarray(r * width, (r + 1) * width));
}

describe('ViLT and METER checkpoints in their published namings (torch.save fixtures)', () => {
  let dir: string;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'das-vl-ckpt-'));
    const child = spawnSync('/usr/bin/python3', [path.join(repoRoot, 'test/fixtures/vl_checkpoints.py'), dir, JSON.stringify(TINY_VILT), JSON.stringify(TINY_METER)], {
      encoding: 'utf8',
    });
    assert.equal(child.status, 0, child.stderr);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('loads the official ViLT Lightning checkpoint by name, bit for bit, dropping what ViLT fine-tuning does not use', async () => {
    const file = path.join(dir, 'vilt_official.ckpt');
    const model = await Model.create('vilt', TINY_VILT);
    const report = await model.loadCheckpoint(file, { strict: true });
    assert.deepEqual(report.unexpected, []);
    assert.deepEqual(report.mismatched, []);
    assert.ok(report.ignored.includes('text_embeddings.position_ids') && report.ignored.includes('itm_score.fc.weight') && report.ignored.includes('mlm_score.decoder.weight'));
    assert.ok(report.missing.every((name) => /_adapter\.|^vqa_classifier\./.test(name)), `only adapters and the new head are missing: ${report.missing}`);
    const source = await readCheckpoint(file);
    const ours = await model.state('all');
    for (const name of report.loaded) assert.ok(sameBytes(ours[name]!, source.tensors[name]!), name);
    assert.equal(report.loaded.length, 4 + 1 + 1 + 4 + 12 * TINY_VILT.layers + 2 + 2);
  });

  it('grows the modality table for NLVR2 (row 2 from row 1) and starts the rank head from the ITM positive row', async () => {
    const file = path.join(dir, 'vilt_official.ckpt');
    const source = (await readCheckpoint(file)).tensors;
    const nlvr2 = await Model.create('vilt', { ...TINY_VILT, task: 'nlvr2' });
    await nlvr2.loadCheckpoint(file, { strict: true });
    const types = (await nlvr2.state('all'))['token_type_embeddings.weight']!;
    assert.deepEqual(types.shape, [3, 32]);
    const original = source['token_type_embeddings.weight']!;
    assert.deepEqual([row(types, 0), row(types, 1), row(types, 2)], [row(original, 0), row(original, 1), row(original, 1)]);

    const irtr = await Model.create('vilt', { ...TINY_VILT, task: 'irtr' });
    await irtr.loadCheckpoint(file, { strict: true });
    const state = await irtr.state('all');
    assert.deepEqual(Array.from(state['rank_output.weight']!.data as Float32Array), row(source['itm_score.fc.weight']!, 1));
    assert.deepEqual(Array.from(state['rank_output.bias']!.data as Float32Array), [(source['itm_score.fc.bias']!.data as Float32Array)[1]]);
  });

  it('loads the HuggingFace ViltForQuestionAnswering naming (split q/k/v fused) to the same weights, with epsilons from config.json', async () => {
    const folder = path.join(dir, 'vilt_hf');
    const config = viltConfigFromHf(JSON.parse(fs.readFileSync(path.join(folder, 'config.json'), 'utf8')), 'config.json', { adapterBottleneck: 4, skipBottleneck: 6 });
    assert.equal(config.layerNormEps, 1e-12);
    assert.equal(config.textLayerNormEps, 1e-12);
    assert.equal(config.numAnswers, TINY_VILT.numAnswers);
    const official = await Model.create('vilt', TINY_VILT);
    await official.loadCheckpoint(path.join(dir, 'vilt_official.ckpt'), { strict: true });
    const hf = await Model.create('vilt', config);
    const report = await hf.loadCheckpoint(path.join(folder, 'pytorch_model.bin'), { strict: true });
    assert.deepEqual(report.unexpected, []);
    assert.deepEqual(report.ignored, ['vilt.embeddings.text_embeddings.position_ids']);
    const [a, b] = [await official.state('all'), await hf.state('all')];
    const hfSource = (await readCheckpoint(path.join(folder, 'pytorch_model.bin'))).tensors;
    for (const name of Object.keys(a)) {
      if (/_adapter\./.test(name)) continue;
      if (name.startsWith('vqa_classifier.')) assert.ok(sameBytes(b[name]!, hfSource[name.replace('vqa_classifier.', 'classifier.')]!), name);
      else assert.ok(sameBytes(a[name]!, b[name]!), name);
    }
  });

  it('names the unfused parts and the missing fused weight when a q/k/v part is absent, and a mis-shaped key by name', async () => {
    const source = (await readCheckpoint(path.join(dir, 'vilt_hf', 'pytorch_model.bin'))).tensors;
    const { 'vilt.encoder.layer.1.attention.attention.value.weight': _dropped, ...rest } = source;
    const broken = path.join(dir, 'broken.safetensors');
    await writeSafetensors(broken, rest);
    const model = await Model.create('vilt', TINY_VILT);
    await assert.rejects(model.loadCheckpoint(broken, { strict: true }), (err: unknown) => {
      assert.ok(err instanceof DasError);
      assert.match(err.message, /unexpected keys: .*vilt\.encoder\.layer\.1\.attention\.attention\.query\.weight \(as transformer\.blocks\.1\.attn\.qkv\.weight\[q\]\)/);
      assert.match(err.message, /missing keys: transformer\.blocks\.1\.attn\.qkv\.weight/);
      return true;
    });
    const wrong = { ...rest, 'vilt.embeddings.position_embeddings': { dtype: 'float32', shape: [1, 10, 32], data: new Float32Array(320) } } as Record<string, HostTensor>;
    await assert.rejects(model.loadState(wrong, { strict: true }), /shape of transformer\.pos_embed: expected \[1, 17, 32\], checkpoint has \[1, 10, 32\]/);
  });

  it('loads the official METER checkpoint: CLIP names mapped, the 3x3 position grid resized bicubically, token4classifier from <s>', async () => {
    const file = path.join(dir, 'meter_official.ckpt');
    const model = await Model.create('meter', TINY_METER);
    const report = await model.loadCheckpoint(file, { strict: true });
    assert.deepEqual(report.unexpected, []);
    assert.deepEqual(report.mismatched, []);
    for (const dropped of ['vit_model.positional_embedding', 'vit_model.ln_final.weight', 'text_transformer.pooler.dense.weight', 'text_transformer.embeddings.position_ids', 'itm_score.fc.weight', 'mlm_score.bias']) {
      assert.ok(report.ignored.includes(dropped), dropped);
    }
    assert.ok(report.missing.every((name) => /_adapter\.|^vqa_classifier\.|^token4classifier$/.test(name)), `${report.missing}`);
    const expected = (await readCheckpoint(path.join(dir, 'meter_expected.pt'))).tensors;
    const ours = await model.state('all');
    for (const [name, tensor] of Object.entries(expected)) {
      if (name === 'vit_model.visual.positional_embedding' || name === 'token4classifier') {
        assert.deepEqual(ours[name]!.shape, tensor.shape, name);
        assert.ok(maxRelativeError(ours[name]!.data as Float32Array, tensor.data as Float32Array) < 1e-6, name);
      } else {
        assert.ok(sameBytes(ours[name]!, tensor), name);
      }
    }
    assert.deepEqual(ours['vit_model.visual.positional_embedding']!.shape, [17, 32]);
  });

  it('names a missing or mis-shaped METER key', async () => {
    const source = (await readCheckpoint(path.join(dir, 'meter_official.ckpt'))).tensors;
    const { 'cross_modal_image_layers.1.crossattention.self.key.weight': _gone, ...rest } = source;
    const model = await Model.create('meter', TINY_METER);
    await assert.rejects(model.loadState(rest, { strict: true }), /missing keys: cross_modal_image_layers\.1\.crossattention\.self\.key\.weight/);
    const wrong = { ...source, 'vit_model.visual.transformer.resblocks.0.attn.in_proj_weight': { dtype: 'float32', shape: [64, 32], data: new Float32Array(64 * 32) } } as Record<string, HostTensor>;
    await assert.rejects(model.loadState(wrong, { strict: true }), /shape of vit_model\.visual\.transformer\.resblocks\.0\.attn\.qkv\.weight: expected \[96, 32\], checkpoint has \[64, 32\]/);
    const notSquare = { ...source, 'vit_model.visual.positional_embedding': { dtype: 'float32', shape: [11, 32], data: new Float32Array(11 * 32) } } as Record<string, HostTensor>;
    await assert.rejects(model.loadState(notSquare, { strict: true }), /vit_model\.visual\.positional_embedding has 11 positions; expected 1 \+ a square grid/);
  });
});
