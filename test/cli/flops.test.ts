import assert from 'node:assert/strict';
import { lastJsonLine, runCli } from '../support/repo.js';

// roberta-base at 512 tokens, by hand: per layer 4*512*768^2 (projections) + 2*512*768*3072 (FFN)
// + 2*512^2*768 (QK^T and AV) = 4,026,531,840; MNLI head 768*768 + 768*3 = 592,128.
const LAYER = 4_026_531_840;
const HEAD = 592_128;
const PARALLEL_ADAPTERS = 2 * (2 * 512 * 768 * 16); // two per layer, b = 16
const SKIP_ADAPTER = 2 * 512 * 768 * 32; // b = 32

describe('das flops', () => {
  it('--json gives the documented fields with hand-checked numbers for roberta-base', () => {
    const result = runCli(['flops', '--model', 'roberta-base', '--task', 'mnli', '--skip', 'En3,En10', '--json']);
    assert.equal(result.status, 0, result.stderr);
    const report = lastJsonLine(result.stdout) as any;
    assert.deepEqual(Object.keys(report), ['model', 'task', 'input', 'flops', 'baseFlops', 'additionalFlops', 'layers', 'params']);
    assert.equal(report.model, 'roberta-base');
    assert.equal(report.task, 'mnli');
    assert.equal(report.input, '512 tokens');
    assert.equal(report.baseFlops, 12 * LAYER + HEAD);
    assert.equal(report.flops, 10 * (LAYER + PARALLEL_ADAPTERS) + 2 * SKIP_ADAPTER + HEAD);
    assert.equal(report.additionalFlops, report.flops - report.baseFlops);
    assert.equal(report.layers.length, 12);
    assert.deepEqual(report.layers[3], { name: 'En3', flops: SKIP_ADAPTER, skipped: true });
    assert.deepEqual(report.layers[0], { name: 'En0', flops: LAYER + PARALLEL_ADAPTERS, skipped: false });
    assert.deepEqual(Object.keys(report.params), ['total', 'updated']);
    // 10 layers x 2 parallel adapters (26,896 each) + 2 skip adapters (51,488 each)
    assert.equal(report.params.updated, 10 * 2 * 26_896 + 2 * 51_488);
  });

  it('prints a per-layer table for people', () => {
    const result = runCli(['flops', '--model', 'roberta-base', '--skip', 'En10']);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /En10 +4\.027 G +25\.166 M +skipped/);
    assert.match(result.stdout, /additional FLOPs: -3\.725 G/);
  });

  it('vilt-b32: the paper VQA input (40 text tokens + 384x384 image = 145 image tokens), hand-checked', () => {
    // 185 tokens: 185 * (4 * 768^2 + 2 * 768 * 3072) + 2 * 185^2 * 768 per block
    const block = 1_361_978_880;
    const fixed = 144 * 3 * 32 * 32 * 768 + 768 * 768 + 768 * 1536 + 1536 * 3129; // patches, pooler, VQA head
    const result = runCli(['flops', '--model', 'vilt-b32', '--task', 'vqa', '--skip', 'En3', '--json']);
    assert.equal(result.status, 0, result.stderr);
    const report = lastJsonLine(result.stdout) as any;
    assert.deepEqual(Object.keys(report), ['model', 'task', 'input', 'flops', 'baseFlops', 'additionalFlops', 'layers', 'params']);
    assert.equal(report.input, '40 text tokens + 384x384 image (145 image tokens)');
    assert.equal(report.baseFlops, 12 * block + fixed);
    assert.deepEqual(report.layers[3], { name: 'En3', flops: 2 * 185 * 768 * 192, skipped: true });
    assert.deepEqual(report.layers[0], { name: 'En0', flops: block + 2 * (2 * 185 * 768 * 96), skipped: false });
    assert.equal(report.flops, 11 * (block + 2 * 2 * 185 * 768 * 96) + 2 * 185 * 768 * 192 + fixed);
  });

  it('meter-clip16-roberta: NLVR2 at 288x288 (325 image tokens) per pass and per example, fusion and global scopes', () => {
    // FV: self-attention layer on 325 tokens + cross-attention to 40 text tokens; FL the other way round
    const fv = 325 * (4 * 768 ** 2 + 2 * 768 * 3072) + 2 * 325 ** 2 * 768 + (2 * 325 + 2 * 40) * 768 ** 2 + 2 * 325 * 40 * 768;
    const fl = 40 * (4 * 768 ** 2 + 2 * 768 * 3072) + 2 * 40 ** 2 * 768 + (2 * 40 + 2 * 325) * 768 ** 2 + 2 * 40 * 325 * 768;
    assert.equal(fv, 2_913_093_120);
    const result = runCli(['flops', '--model', 'meter-clip16-roberta', '--task', 'nlvr2', '--scope', 'fusion', '--skip', 'FL2,FV0', '--json']);
    assert.equal(result.status, 0, result.stderr);
    const report = lastJsonLine(result.stdout) as any;
    assert.match(report.input, /^40 text tokens \+ 288x288 image \(325 image tokens\), per image-text pass; one example takes 2 passes: \d+ FLOPs \(base \d+\)$/);
    assert.deepEqual(report.layers.slice(0, 3).map((l: any) => l.name), ['FL0', 'FL1', 'FL2']);
    assert.deepEqual(report.layers[6], { name: 'FV0', flops: 2 * 325 * 768 * 288, skipped: true });
    assert.deepEqual(report.layers[7], { name: 'FV1', flops: fv + 3 * 2 * 325 * 768 * 96, skipped: false });
    assert.deepEqual(report.layers[0], { name: 'FL0', flops: fl + 3 * 2 * 40 * 768 * 96, skipped: false });
    assert.equal(report.layers.length, 24);
    const global = runCli(['flops', '--model', 'meter-clip16-roberta', '--scope', 'global', '--skip', 'LEn6', '--json']);
    assert.equal(global.status, 0, global.stderr);
    const vqa = lastJsonLine(global.stdout) as any;
    assert.equal(vqa.input, '40 text tokens + 384x384 image (577 image tokens)');
    assert.deepEqual(vqa.layers[18], { name: 'LEn6', flops: 2 * 40 * 768 * 288, skipped: true });
  });

  it('rejects unknown layers, presets, tasks and scopes with exit code 2', () => {
    const cases: [string[], RegExp][] = [
      [['--model', 'roberta-base', '--skip', 'En12'], /Expected layer names among En0\.\.En11 for skip but received "En12"/],
      [['--model', 'bert-huge'], /Expected a preset \(roberta-base.*\) or a folder with config\.json for --model but received "bert-huge"/],
      [['--model', 'roberta-base', '--task', 'vqa'], /Expected one of mnli, sst2 for RoBERTa for --task but received "vqa"/],
      [['--model', 'roberta-base', '--scope', 'fusion'], /Expected 'global' for RoBERTa for --scope/],
      [['--model', 'vilt-b32', '--task', 'mnli'], /Expected one of vqa, nlvr2, irtr for ViLT for --task but received "mnli"/],
      [['--model', 'meter-clip16-roberta', '--scope', 'fusion', '--skip', 'LEn3'], /Expected layer names of the fusion scope \(FL0\.\.FV5\) for skip but received "LEn3"/],
      [['--model', 'meter-clip16-roberta', '--scope', 'vision'], /Expected 'fusion' or 'global' for METER for --scope/],
    ];
    for (const [args, message] of cases) {
      const result = runCli(['flops', ...args, '--json']);
      assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
      assert.equal((lastJsonLine(result.stdout) as any).error.code, 'DAS_INVALID_ARGUMENT');
    }
  });
});
