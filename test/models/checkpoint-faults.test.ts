import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DasError } from '../../lib/errors.js';
import { loadPretrained } from '../../lib/models/pretrained-any.js';
import { writeRandomRobertaCheckpoint, writeRandomVlCheckpoint } from '../../lib/models/random-checkpoint.js';
import { search } from '../../lib/train/runs.js';
import { lastJsonLine, runCli } from '../support/repo.js';
import { TINY_METER, TINY_VILT } from '../support/vl.js';

describe('checkpoint and config.json faults are named, never a wall of shape mismatches or a truncated model', function () {
  this.timeout(120_000);
  let root: string;
  let roberta: string;
  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'das-ckpt-faults-'));
    roberta = await writeRandomRobertaCheckpoint(path.join(root, 'roberta'), { hidden: 32, layers: 4, heads: 4, intermediate: 64, maxPositions: 40 });
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  /** A copy of the RoBERTa checkpoint whose config.json is replaced by `write` (or removed). */
  const withConfig = (name: string, write: ((file: string) => void) | null): string => {
    const dir = path.join(root, name);
    fs.cpSync(roberta, dir, { recursive: true });
    fs.rmSync(path.join(dir, 'config.json'));
    write?.(path.join(dir, 'config.json'));
    return dir;
  };
  const rejectsNamed = async (promise: Promise<unknown>, file: string, message: RegExp) =>
    assert.rejects(promise, (error: unknown) => {
      assert.ok(error instanceof DasError, String(error));
      assert.ok(error.message.includes(file), `names ${file}: ${error.message}`);
      assert.match(error.message, message);
      assert.doesNotMatch(error.message, /shape of/, 'not a list of shape mismatches');
      return true;
    });

  describe('config.json', () => {
    const cases: [string, ((file: string) => void) | null, RegExp][] = [
      ['missing from a checkpoint folder', null, /has no config\.json \(it gives the model's sizes\)/],
      ['null', (f) => fs.writeFileSync(f, 'null'), /holds null, not a JSON object of model settings/],
      ['a list', (f) => fs.writeFileSync(f, '[1, 2]'), /holds an array of length 2, not a JSON object/],
      ['a number', (f) => fs.writeFileSync(f, '42'), /holds 42, not a JSON object/],
      ['a string', (f) => fs.writeFileSync(f, '"roberta"'), /holds "roberta", not a JSON object/],
      ['empty', (f) => fs.writeFileSync(f, ''), /is not valid JSON/],
      ['cut short', (f) => fs.writeFileSync(f, '{"hidden_size": 32,'), /is not valid JSON/],
      ['UTF-16', (f) => fs.writeFileSync(f, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('{}', 'utf16le')])), /is UTF-16 encoded/],
      ['a folder', (f) => fs.mkdirSync(f), /is a folder, not a regular file/],
      ['a FIFO', (f) => assert.equal(spawnSync('mkfifo', [f]).status, 0), /is a FIFO \(named pipe\), not a regular file/],
    ];
    for (const [what, write, message] of cases) {
      it(what, async () => {
        const dir = withConfig(`config-${what.replace(/\W+/g, '-')}`, write);
        await rejectsNamed(loadPretrained('roberta', dir, { task: 'sst2' }), dir, message);
      });
    }

    it('with a BOM, config.json reads as usual', async () => {
      const dir = withConfig('config-bom', (f) => fs.writeFileSync(f, `\ufeff${fs.readFileSync(path.join(roberta, 'config.json'), 'utf8')}`));
      const { model } = await loadPretrained('roberta', dir, { task: 'sst2' });
      await model.dispose();
    });

    it('a weights file without config.json beside it says so first', async () => {
      const dir = path.join(root, 'bare');
      fs.mkdirSync(dir);
      fs.copyFileSync(path.join(roberta, 'model.safetensors'), path.join(dir, 'model.safetensors'));
      await assert.rejects(loadPretrained('roberta', path.join(dir, 'model.safetensors'), { task: 'sst2' }), /does not fit a roberta model:\n {2}- there is no .*bare\/config\.json, so the model was built with the published roberta configuration/);
    });
  });

  describe('a config.json with fewer layers than the weights', () => {
    const fewer = async (name: string, source: string, change: (json: any) => void, architecture: 'roberta' | 'vilt' | 'meter', task: string, message: RegExp) => {
      const dir = path.join(root, name);
      fs.cpSync(source, dir, { recursive: true });
      const json = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
      change(json);
      fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(json));
      await assert.rejects(loadPretrained(architecture, dir, { task }), (error: unknown) => error instanceof DasError && error.code === 'DAS_CHECKPOINT' && message.test(error.message));
    };

    it('RoBERTa: 2 of 4 layers', () => fewer('roberta-2of4', roberta, (j) => (j.num_hidden_layers = 2), 'roberta', 'sst2', /the weights hold 4 layers of roberta\.encoder\.layer\.\* but the configuration builds 2: config\.json has fewer layers than the weights/));

    it('ViLT: 2 of 3 blocks', async () => {
      const vilt = await writeRandomVlCheckpoint(path.join(root, 'vilt'), 'vilt', { ...TINY_VILT, task: 'vqa' });
      await fewer('vilt-2of3', vilt, (j) => (j.num_hidden_layers = 2), 'vilt', 'vqa', /the weights hold 3 layers of transformer\.blocks\.\* but the configuration builds 2/);
    });

    it('METER: 1 of 2 fusion layers, and 2 of 3 text layers', async () => {
      const meter = await writeRandomVlCheckpoint(path.join(root, 'meter'), 'meter', { ...TINY_METER, task: 'vqa' });
      await fewer('meter-fusion', meter, (j) => (j.num_top_layer = 1), 'meter', 'vqa', /the weights hold 2 layers of cross_modal_(text|image)_layers\.\* but the configuration builds 1/);
      await fewer('meter-text', meter, (j) => (j.text_config.num_hidden_layers = 2), 'meter', 'vqa', /the weights hold 3 layers of text_transformer\.encoder\.layer\.\* but the configuration builds 2/);
    });
  });

  describe('the weights and the --checkpoint path', () => {
    it('a missing --checkpoint is named as such, not as a missing tokenizer', async () => {
      const missing = path.join(root, 'no-such-checkpoint');
      const options = { architecture: 'roberta' as const, checkpoint: missing, task: 'sst2' as const, data: root, out: path.join(root, 'never') };
      await assert.rejects(search({ ...options, skipNum: 1 }), (e: unknown) => e instanceof DasError && /checkpoint .*no-such-checkpoint does not exist/.test(e.message) && !/tokenizer/.test(e.message));
      await assert.rejects(search({ ...options, skipNum: 1, tokenizer: path.join(roberta, 'tokenizer.json') }), /checkpoint .*no-such-checkpoint does not exist/);
      const cli = runCli(['train', '--model', 'roberta', '--checkpoint', missing, '--task', 'sst2', '--data', root, '--json']);
      assert.equal(cli.status, 1);
      assert.match((lastJsonLine(cli.stdout) as any).error.message, /checkpoint .*no-such-checkpoint does not exist/);
      assert.ok(!fs.existsSync(path.join(root, 'never')));
    });

    it('weights that are a FIFO or a folder are refused without blocking', async () => {
      const fifo = withConfig('weights-fifo', (f) => fs.copyFileSync(path.join(roberta, 'config.json'), f));
      fs.rmSync(path.join(fifo, 'model.safetensors'));
      assert.equal(spawnSync('mkfifo', [path.join(fifo, 'model.safetensors')]).status, 0);
      await assert.rejects(loadPretrained('roberta', fifo, { task: 'sst2' }), /Checkpoint weights .*model\.safetensors is a FIFO \(named pipe\), not a regular file/);
      const folder = withConfig('weights-folder', (f) => fs.copyFileSync(path.join(roberta, 'config.json'), f));
      fs.rmSync(path.join(folder, 'model.safetensors'));
      fs.mkdirSync(path.join(folder, 'model.safetensors'));
      await assert.rejects(loadPretrained('roberta', folder, { task: 'sst2' }), /model\.safetensors is a folder, not a regular file/);
    });
  });
});
