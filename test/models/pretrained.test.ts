import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DasError } from '../../lib/errors.js';
import { loadPretrainedRoberta, locateCheckpoint } from '../../lib/models/pretrained.js';
import { readCheckpoint, writeSafetensors } from '../../lib/native/checkpoint.js';
import { repoRoot } from '../support/repo.js';

describe('pre-trained RoBERTa checkpoints', () => {
  let dir: string;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'das-hf-roberta-'));
    const child = spawnSync('/usr/bin/python3', [path.join(repoRoot, 'test/fixtures/hf_roberta_checkpoint.py'), dir], { encoding: 'utf8' });
    assert.equal(child.status, 0, child.stderr);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('loads a HuggingFace pytorch_model.bin (torch.save) with config.json, every weight bit for bit', async () => {
    const { model, report, files } = await loadPretrainedRoberta(dir, { task: 'sst2' });
    assert.equal(files.weights, path.join(dir, 'pytorch_model.bin'));
    assert.equal(model.config.layers, 2);
    assert.equal(model.config.numLabels, 2);
    assert.deepEqual(report.ignored, ['roberta.embeddings.position_ids']);
    assert.deepEqual(report.unexpected.sort(), ['lm_head.bias', 'lm_head.dense.bias', 'lm_head.dense.weight', 'roberta.pooler.dense.bias', 'roberta.pooler.dense.weight']);
    assert.ok(report.missing.every((name) => /_adapter\.|^classifier\./.test(name)), `only adapters and the new head are missing: ${report.missing}`);
    const source = await readCheckpoint(files.weights);
    const ours = await model.state('all');
    let compared = 0;
    for (const name of report.loaded) {
      assert.ok(Buffer.from(ours[name]!.data.buffer).equals(Buffer.from(source.tensors[name]!.data.buffer)), name);
      compared++;
    }
    assert.equal(compared, 5 + 2 * 16);
  });

  it('prefers model.safetensors in a folder, and names a missing pre-trained weight', async () => {
    const source = await readCheckpoint(path.join(dir, 'pytorch_model.bin'));
    const broken = fs.mkdtempSync(path.join(os.tmpdir(), 'das-hf-broken-'));
    try {
      fs.copyFileSync(path.join(dir, 'config.json'), path.join(broken, 'config.json'));
      const { 'roberta.encoder.layer.1.intermediate.dense.weight': _dropped, ...rest } = source.tensors;
      await writeSafetensors(path.join(broken, 'model.safetensors'), rest);
      assert.equal(locateCheckpoint(broken).weights, path.join(broken, 'model.safetensors'));
      await assert.rejects(loadPretrainedRoberta(broken), (err: unknown) => {
        assert.ok(err instanceof DasError);
        assert.equal(err.code, 'DAS_CHECKPOINT');
        assert.match(err.message, /missing pre-trained weights: roberta\.encoder\.layer\.1\.intermediate\.dense\.weight/);
        return true;
      });
    } finally {
      fs.rmSync(broken, { recursive: true, force: true });
    }
  });

  it('names a weight whose shape does not fit config.json', async () => {
    const wrong = fs.mkdtempSync(path.join(os.tmpdir(), 'das-hf-wrong-'));
    try {
      const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
      fs.writeFileSync(path.join(wrong, 'config.json'), JSON.stringify({ ...config, intermediate_size: 40 }));
      fs.copyFileSync(path.join(dir, 'pytorch_model.bin'), path.join(wrong, 'pytorch_model.bin'));
      await assert.rejects(loadPretrainedRoberta(wrong), /shape of roberta\.encoder\.layer\.0\.intermediate\.dense\.weight: model \[40, 32\], checkpoint \[48, 32\]/);
    } finally {
      fs.rmSync(wrong, { recursive: true, force: true });
    }
  });

  it('says what is wrong with a missing checkpoint or an empty folder', async () => {
    await assert.rejects(loadPretrainedRoberta(path.join(dir, 'nope')), /checkpoint .*nope does not exist/);
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'das-empty-'));
    try {
      await assert.rejects(loadPretrainedRoberta(empty), /holds none of model\.safetensors, pytorch_model\.bin/);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});
