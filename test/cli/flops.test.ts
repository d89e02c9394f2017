import assert from 'node:assert/strict';
import { lastJsonLine, runCli } from '../support/repo.js';

// roberta-base at 512 tokens, by hand: per layer 4*512*768^2 (projections) + 2*512*768*3072 (FFN)
// + 2*512^2*768 (QK^T and AV) = 4,026,531,840; MNLI head 768*768 + 768*3 = 592,128.
const LAYER = 4_026_531_840;
const HEAD = 592_128;
const PARALLEL_ADAPTERS = 2 * (2 * 512 * 768 * 16); // two per layer, b = 16
const SKIP_ADAPTER = 2 * 512 * 768 * 32; // b = 32

describe('das flops', () => {
  it('--json gives the SPEC 9 fields with hand-checked numbers for roberta-base', () => {
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

  it('rejects unknown layers, presets, tasks and scopes with exit code 2', () => {
    const cases: [string[], RegExp][] = [
      [['--model', 'roberta-base', '--skip', 'En12'], /Expected layer names among En0\.\.En11 for skip but received "En12"/],
      [['--model', 'bert-huge'], /Expected a preset \(roberta-base.*\) or a folder with config\.json for --model but received "bert-huge"/],
      [['--model', 'roberta-base', '--task', 'vqa'], /Expected one of mnli, sst2 for RoBERTa for --task but received "vqa"/],
      [['--model', 'roberta-base', '--scope', 'fusion'], /Expected 'global' for RoBERTa for --scope/],
    ];
    for (const [args, message] of cases) {
      const result = runCli(['flops', ...args, '--json']);
      assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
      assert.equal((lastJsonLine(result.stdout) as any).error.code, 'DAS_INVALID_ARGUMENT');
    }
  });
});
