import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateSyntheticDataset, writeTinyTokenizer } from '../../lib/data/index.js';
import { padImages } from '../../lib/data/image-collate.js';
import { prepareImage, type ImageTransformConfig } from '../../lib/data/image-transform.js';
import { encodeTinyImage } from '../../lib/data/synthetic/tiny-images.js';
import { TextTokenizer, type TokenizerConfig } from '../../lib/data/tokenizer.js';
import { DasError } from '../../lib/errors.js';
import type { HostTensor } from '../../lib/host-tensor.js';
import type { MeterConfig } from '../../lib/models/meter-config.js';
import type { ViltConfig } from '../../lib/models/vilt-config.js';
import { readCheckpoint } from '../../lib/native/checkpoint.js';
import { predict, type PredictResult } from '../../lib/serve/predict.js';
import type { PredictInput } from '../../lib/serve/predict-input.js';
import { modelCost } from '../../lib/train/run-model.js';
import { train } from '../../lib/train/runs.js';
import { lastJsonLine, repoRoot, runCli } from '../support/repo.js';
import { maxRelativeError } from '../support/tensors.js';
import { TINY_METER, TINY_VILT, pythonLogits, type Batch } from '../support/vl.js';

const questions = ['what color is the car ?', 'how many dogs are there ?', 'is there a cat ?'];

/** Text and pixels prepared independently of predict: the tokenizer and image transform with the published settings. */
async function referenceInputs(tokenizerFile: string, settings: TokenizerConfig, images: string[], transform: ImageTransformConfig): Promise<Batch> {
  const tokenizer = await TextTokenizer.load(tokenizerFile, settings);
  const text = tokenizer.encodeBatch(questions);
  const prepared = await Promise.all(images.map(async (file) => prepareImage(fs.readFileSync(file), transform)));
  const pixels = padImages(prepared);
  return {
    input_ids: { dtype: 'int64', shape: [text.batchSize, text.length], data: BigInt64Array.from(text.inputIds, BigInt) },
    attention_mask: { dtype: 'int64', shape: [text.batchSize, text.length], data: BigInt64Array.from(text.attentionMask, BigInt) },
    pixel_values: { dtype: 'float32', shape: [pixels.batchSize, 3, pixels.height, pixels.width], data: pixels.pixels },
    pixel_mask: { dtype: 'uint8', shape: [pixels.batchSize, pixels.height, pixels.width], data: pixels.pixelMask },
  };
}

async function tensorsOf(file: string, drop: RegExp): Promise<Record<string, HostTensor>> {
  const { tensors } = await readCheckpoint(file);
  return Object.fromEntries(Object.entries(tensors).filter(([name]) => !drop.test(name)));
}

const logitsOf = (result: PredictResult) => result.predictions.flatMap((p) => p.logits);

describe('das predict and das export (ViLT and METER)', function () {
  this.timeout(600_000);
  let root: string;
  let ckpt: string;
  let inputs: PredictInput[];
  let inputFile: string;
  // METER's language encoder takes the tiny byte-level BPE vocabulary
  const meterConfig: MeterConfig = { ...TINY_METER, text: { ...TINY_METER.text, vocabSize: 420 } };

  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'das-serve-vl-'));
    ckpt = path.join(root, 'ckpt');
    const made = spawnSync('/usr/bin/python3', [path.join(repoRoot, 'test/fixtures/vl_checkpoints.py'), ckpt, JSON.stringify(TINY_VILT), JSON.stringify(meterConfig)], { encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    for (const dir of ['vilt_hf', 'vilt_vqa']) await writeTinyTokenizer(path.join(ckpt, dir), 'wordpiece');
    await writeTinyTokenizer(path.join(ckpt, 'meter_vqa'), 'bpe');
    // real encoded images of different sizes and formats, named relative to the JSONL file
    const images = path.join(root, 'inputs', 'images');
    fs.mkdirSync(images, { recursive: true });
    const sizes: [number, number, 'jpeg' | 'png'][] = [[48, 40, 'jpeg'], [40, 64, 'png'], [70, 36, 'jpeg']];
    for (const [i, [width, height, format]] of sizes.entries()) fs.writeFileSync(path.join(images, `${i}.${format}`), await encodeTinyImage({ width, height, format, seed: 7 + i }));
    inputs = questions.map((text, i) => ({ text, image: path.join(images, `${i}.${sizes[i]![2]}`) }));
    inputFile = path.join(root, 'inputs', 'vqa.jsonl');
    fs.writeFileSync(inputFile, inputs.map((input, i) => JSON.stringify({ text: input.text, image: `images/${i}.${sizes[i]![2]}` })).join('\n'));
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  describe('without --run: the published model equals an independent PyTorch computation', () => {
    const viltInputs = (tokenizer: string) =>
      referenceInputs(tokenizer, { maxLength: TINY_VILT.maxTextLen, padding: 'max_length', singleTokenType: false }, inputs.map((i) => i.image!), { kind: 'vilt', size: TINY_VILT.imageSize });
    const published: ViltConfig = { ...TINY_VILT, adapterBottleneck: 0, skipBottleneck: 0 };

    it('ViLT VQA in the official Lightning naming (JSONL file, task from the head, answers from --labels)', async () => {
      const labels = path.join(root, 'vqa_dict.json');
      fs.writeFileSync(labels, JSON.stringify(Object.fromEntries(Array.from({ length: TINY_VILT.numAnswers }, (_, i) => [String(i), `ans${i}`]))));
      const cli = runCli(['predict', '--model', 'vilt', '--checkpoint', path.join(ckpt, 'vilt_vqa', 'vilt_vqa.ckpt'), '--input', inputFile, '--labels', labels, '--batch-size', '2', '--json']);
      assert.equal(cli.status, 0, cli.stderr);
      const ours = lastJsonLine(cli.stdout) as unknown as PredictResult;
      assert.deepEqual(ours.skipped, []);
      assert.equal(ours.predictions.length, 3);
      const weights = await tensorsOf(path.join(ckpt, 'vilt_vqa', 'vilt_vqa.ckpt'), /^(itm_score|mlm_score)\.|position_ids$/);
      const expected = pythonLogits('vilt_reference.py', weights, await viltInputs(path.join(ckpt, 'vilt_vqa', 'tokenizer.json')), { config: published, skip: [] });
      const error = maxRelativeError(logitsOf(ours), expected);
      assert.ok(error < 1e-5, `relative error ${error}`);
      for (const p of ours.predictions) assert.equal(p.label, `ans${p.logits.indexOf(Math.max(...p.logits))}`);
    });

    it('ViLT VQA in the HuggingFace naming (split q/k/v, its config.json eps, answers from id2label)', async () => {
      const ours = await predict({ architecture: 'vilt', checkpoint: path.join(ckpt, 'vilt_hf'), input: inputs });
      // the same weights as the official file; HF's config.json gives every LayerNorm eps 1e-12
      const weights = await tensorsOf(path.join(ckpt, 'vilt_vqa', 'vilt_vqa.ckpt'), /^(itm_score|mlm_score)\.|position_ids$/);
      const config = { ...published, layerNormEps: 1e-12, textLayerNormEps: 1e-12 };
      const expected = pythonLogits('vilt_reference.py', weights, await viltInputs(path.join(ckpt, 'vilt_hf', 'tokenizer.json')), { config, skip: [] });
      const error = maxRelativeError(logitsOf(ours), expected);
      assert.ok(error < 1e-5, `relative error ${error}`);
      assert.ok(ours.predictions.every((p) => /^answer\d$/.test(String(p.label))), 'answers named by config.json id2label');
      // people get one line an input: the answer, then the logits
      const human = runCli(['predict', '--model', 'vilt', '--checkpoint', path.join(ckpt, 'vilt_hf'), '--input', inputFile]);
      assert.equal(human.status, 0, human.stderr);
      assert.deepEqual(
        human.stdout.trim().split('\n'),
        ours.predictions.map((p) => `${p.label}\t${p.logits.map((l) => l.toFixed(4)).join(' ')}`),
      );
    });

    it('METER VQA in the official naming, sized by its config.json (no token4classifier: METER as published)', async () => {
      const checkpoint = path.join(ckpt, 'meter_vqa', 'meter_vqa.ckpt');
      const ours = await predict({ architecture: 'meter', checkpoint, input: inputs, batchSize: 2 });
      const weights = await tensorsOf(path.join(ckpt, 'meter_vqa_expected.pt'), /^$/);
      assert.ok(!('token4classifier' in weights));
      // METER's square images need no pixel mask
      const { pixel_mask: _mask, ...batch } = await referenceInputs(path.join(ckpt, 'meter_vqa', 'tokenizer.json'), { maxLength: 18, padding: 'max_length', singleTokenType: true }, inputs.map((i) => i.image!), {
        kind: 'clip',
        size: meterConfig.vision.imageSize,
      });
      const config: MeterConfig = { ...meterConfig, adapterBottleneck: 0, skipBottleneck: 0, classifierToken: false, text: { ...meterConfig.text, skipBottleneck: 0 } };
      const expected = pythonLogits('meter_reference.py', weights, batch, { config, skip: [] });
      const error = maxRelativeError(logitsOf(ours), expected);
      assert.ok(error < 1e-5, `relative error ${error}`);
      assert.deepEqual(
        ours.predictions.map((p) => p.label),
        ours.predictions.map((p) => p.logits.indexOf(Math.max(...p.logits))),
        'no names known: answer indices',
      );
    });
  });

  describe('runs and exports', () => {
    const cases = [
      { architecture: 'vilt' as const, checkpoint: () => path.join(ckpt, 'vilt_vqa', 'vilt_vqa.ckpt'), skip: ['En1'], prefix: /^transformer\.blocks\.1\./ },
      { architecture: 'meter' as const, checkpoint: () => path.join(ckpt, 'meter_vqa', 'meter_vqa.ckpt'), skip: ['FV0', 'LEn1'], prefix: /^(cross_modal_image_layers\.0|text_transformer\.encoder\.layer\.1)\./ },
    ];
    let data: string;
    before(async () => {
      data = path.join(root, 'data-vqa');
      await generateSyntheticDataset({ task: 'vqa', dir: data, size: 8, seed: 3 });
    });

    for (const c of cases) {
      it(`${c.architecture}: export -> predict equals run -> predict bit for bit; the export holds no tensor of a skipped layer and names the answers`, async () => {
        const run = path.join(root, `run-${c.architecture}`);
        await train({ architecture: c.architecture, checkpoint: c.checkpoint(), task: 'vqa', data, out: run, skip: c.skip, numAnswers: 7, batchSize: 4, effectiveBatch: 4, epochs: 1, lr: 1e-2 });
        const out = path.join(root, `export-${c.architecture}`);
        const cli = runCli(['export', '--run', run, '--out', out, '--json']);
        assert.equal(cli.status, 0, cli.stderr);
        const exported = lastJsonLine(cli.stdout) as { bytes: number; flops: number; baseFlops: number; skipped: string[] };
        assert.deepEqual(exported.skipped, c.skip);
        const config = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8'));
        assert.equal(exported.flops, modelCost(c.architecture, config.das.config, c.skip).flops);
        assert.equal(exported.baseFlops, modelCost(c.architecture, config.das.config, c.skip).baseFlops);
        const flops = runCli(['flops', '--model', out, '--json']);
        assert.equal(flops.status, 0, flops.stderr);
        assert.equal((lastJsonLine(flops.stdout) as { flops: number }).flops, exported.flops, 'das flops counts an export with its own skipped layers');

        const { names } = await readCheckpoint(path.join(out, 'model.safetensors'));
        const ofSkipped = names.filter((name) => c.prefix.test(name));
        assert.ok(ofSkipped.length > 0 && ofSkipped.every((name) => name.includes('.skip_adapter.')), `only skip adapters of ${c.skip}: ${ofSkipped}`);
        assert.equal(names.filter((name) => name.includes('.skip_adapter.')).length, ofSkipped.length, 'no skip adapter of a running layer');
        assert.ok(names.some((name) => name.startsWith('vqa_classifier.')));
        assert.equal(config.id2label['0'], 'yes', 'answers named from the run data');

        // the exported folder alone, moved away from the run and the original checkpoint
        const moved = path.join(root, `moved-${c.architecture}`);
        fs.renameSync(out, moved);
        const fromRun = await predict({ architecture: c.architecture, checkpoint: c.checkpoint(), run, input: inputFile });
        const fromExport = await predict({ architecture: c.architecture, checkpoint: moved, input: inputFile });
        assert.deepEqual(fromRun.skipped, c.skip);
        assert.deepEqual(fromExport, fromRun);
        assert.ok(fromRun.predictions.every((p) => typeof p.label === 'string'));

        const evaluated = runCli(['eval', '--checkpoint', moved, '--data', data, '--batch-size', '4', '--json']);
        assert.equal(evaluated.status, 0, evaluated.stderr);
        const viaRun = lastJsonLine(runCli(['eval', '--run', run, '--json']).stdout) as { metrics: Record<string, number> };
        assert.deepEqual((lastJsonLine(evaluated.stdout) as { metrics: Record<string, number> }).metrics, viaRun.metrics);
      });
    }
  });

  describe('the other heads', () => {
    it('NLVR2 with --run: image pairs from image_0 / image_1, labels True / False', async () => {
      const data = path.join(root, 'data-nlvr2');
      await generateSyntheticDataset({ task: 'nlvr2', dir: data, size: 4, seed: 5 });
      const run = path.join(root, 'run-vilt-nlvr2');
      const checkpoint = path.join(ckpt, 'vilt_vqa', 'vilt_vqa.ckpt');
      await train({ architecture: 'vilt', checkpoint, task: 'nlvr2', data, out: run, skip: ['En2'], batchSize: 4, effectiveBatch: 4, epochs: 1, lr: 1e-2 });
      const pairs = [{ text: 'the left image contains two dogs', image_0: inputs[0]!.image, image_1: inputs[1]!.image }, { text: 'there is one cat', image_0: inputs[2]!.image, image_1: inputs[0]!.image }];
      const result = await predict({ architecture: 'vilt', checkpoint, run, input: pairs });
      assert.deepEqual(result.skipped, ['En2']);
      for (const p of result.predictions) {
        assert.equal(p.logits.length, 2);
        assert.equal(p.label, p.logits[1]! > p.logits[0]! ? 'True' : 'False');
      }
      // one pair alone gives what it gives in the batch (pairs share one padded size per batch)
      const alone = await predict({ architecture: 'vilt', checkpoint, run, input: [pairs[1]!] });
      assert.ok(maxRelativeError(alone.predictions[0]!.logits, result.predictions[1]!.logits) < 1e-5);
      await assert.rejects(predict({ architecture: 'vilt', checkpoint, run, input: inputs }), /input 1: missing the field "image_0" \(ViLT NLVR2 takes text, image_0, image_1\)/);
    });

    it('retrieval from a pre-trained checkpoint: the task from its ITM head, the label is the match score', async () => {
      const dir = path.join(root, 'vilt-pretrained');
      fs.mkdirSync(dir);
      fs.copyFileSync(path.join(ckpt, 'vilt_official.ckpt'), path.join(dir, 'vilt_200k_mlm_itm.ckpt'));
      for (const file of ['config.json', 'tokenizer.json']) fs.copyFileSync(path.join(ckpt, 'vilt_vqa', file), path.join(dir, file));
      const result = await predict({ architecture: 'vilt', checkpoint: path.join(dir, 'vilt_200k_mlm_itm.ckpt'), input: inputs });
      for (const p of result.predictions) {
        assert.equal(p.logits.length, 1);
        assert.equal(p.label, p.logits[0]);
      }
      assert.notEqual(result.predictions[0]!.label, result.predictions[1]!.label);
    });
  });

  describe('bad inputs', () => {
    const vilt = () => path.join(ckpt, 'vilt_hf');

    it('a line without its image is named by line number, with what the model takes', () => {
      const file = path.join(root, 'inputs', 'no-image.jsonl');
      fs.writeFileSync(file, `${JSON.stringify({ text: 'is there a cat ?', image: 'images/0.jpeg' })}\n\n${JSON.stringify({ text: 'is there a dog ?' })}\n`);
      const cli = runCli(['predict', '--model', 'vilt', '--checkpoint', vilt(), '--input', file]);
      assert.equal(cli.status, 1);
      assert.match(cli.stderr, /no-image\.jsonl line 3: missing the field "image" \(ViLT VQA takes text, image\)/);
    });

    it('an unreadable image (missing, or not an image) names the file and the input', async () => {
      const missing = path.join(root, 'inputs', 'nowhere.jpg');
      await assert.rejects(predict({ architecture: 'vilt', checkpoint: vilt(), input: [inputs[0]!, { text: 'a cat', image: missing }] }), (err: unknown) => {
        return err instanceof DasError && err.message.includes(missing) && /input 2/.test(err.message);
      });
      const corrupt = path.join(root, 'inputs', 'corrupt.png');
      fs.writeFileSync(corrupt, 'this is not a PNG file');
      await assert.rejects(predict({ architecture: 'vilt', checkpoint: vilt(), input: [{ text: 'a cat', image: corrupt }] }), (err: unknown) => {
        return err instanceof DasError && err.message.includes(corrupt);
      });
    });

    it('text longer than ViLT takes is truncated with a warning, not an error', async () => {
      const warnings: string[] = [];
      const long = { text: Array(30).fill('cat').join(' '), image: inputs[0]!.image };
      const result = await predict({ architecture: 'vilt', checkpoint: vilt(), input: [long, inputs[1]!], onWarning: (m) => warnings.push(m) });
      assert.equal(result.predictions.length, 2);
      assert.deepEqual(warnings, [`input 1 is longer than ${TINY_VILT.maxTextLen} tokens and was truncated`]);
    });

    it('a checkpoint or run of another architecture', async () => {
      await assert.rejects(predict({ architecture: 'meter', checkpoint: path.join(root, 'moved-vilt'), input: inputs }), /is an exported vilt model, not meter/);
      await assert.rejects(predict({ architecture: 'meter', checkpoint: path.join(ckpt, 'meter_vqa', 'meter_vqa.ckpt'), run: path.join(root, 'run-vilt'), input: inputs }), /is a run of a vilt model, not meter/);
      await assert.rejects(predict({ architecture: 'meter', checkpoint: vilt(), input: inputs }), /vilt_hf holds a vilt model \(config\.json model_type\), not meter/);
    });
  });
});
