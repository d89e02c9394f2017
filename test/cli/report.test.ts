import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { search, train } from '../../lib/train/runs.js';
import { lastJsonLine, runCli } from '../support/repo.js';
import { makeTinyRobertaSetup } from '../support/tiny-roberta.js';

const CHROMIUM = '/usr/bin/chromium';

function headless(args: string[]): ReturnType<typeof spawnSync> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'das-chromium-'));
  try {
    return spawnSync(
      CHROMIUM,
      ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, ...args],
      { encoding: 'utf8', timeout: 120_000 },
    );
  } finally {
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

describe('das report', function () {
  this.timeout(300_000);
  let root: string;
  let runs: string[];

  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'das-report-'));
    const setup = await makeTinyRobertaSetup(root);
    const common = { architecture: 'roberta' as const, checkpoint: setup.checkpoint, task: 'sst2' as const, data: setup.data, batchSize: 8, effectiveBatch: 8, lr: 1e-3, seed: 5 };
    const found = await search({ ...common, out: path.join(root, 'search'), skipNum: 2, turn: 2 });
    await train({ ...common, out: path.join(root, 'das'), skipFrom: found.runDir, epochs: 1 });
    await train({ ...common, out: path.join(root, 'random-1'), skipRandom: 2, seed: 1, epochs: 1 });
    await train({ ...common, out: path.join(root, 'random-2'), skipRandom: 2, seed: 2, epochs: 1 });
    runs = ['search', 'das', 'random-1', 'random-2'].map((r) => path.join(root, r));
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('writes report.md with a table in the paper layout, DAS next to random sampling', () => {
    const result = runCli(['report', ...runs, '--out', path.join(root, 'report'), '--json']);
    assert.equal(result.status, 0, result.stderr);
    const files = lastJsonLine(result.stdout) as { markdown: string; html: string; charts: string[] };
    const md = fs.readFileSync(files.markdown, 'utf8');
    assert.match(md, /\| Method \| Model \| Task \| Precision \| Candidates \| # skipped \| Performance \| Additional FLOPs \| Updated params \| Skipped layers \| Run \|/);
    assert.match(md, /\| DAS search \| roberta \| sst2 \| fp32 \| global \| 2 \| - \|/);
    assert.match(md, /\| DAS \| roberta \| sst2 \| fp32 \| global \| 2 \| \d+\.\d\d \(accuracy\) \|/);
    assert.equal(md.match(/\| random sampling \| roberta/g)?.length, 2);
    assert.match(md, /\| random sampling \(mean ± std\) \|/);
    assert.deepEqual(files.charts.map((c) => path.basename(c)), ['gates-0.svg', 'rewards-0.svg', 'loss-0.svg']);
    for (const chart of files.charts) assert.match(md, new RegExp(`!\\[[^\\]]+\\]\\(${path.basename(chart)}\\)`));
  });

  it('report.html is self-contained and headless Chromium draws its charts', async () => {
    const html = path.join(root, 'report', 'report.html');
    const text = fs.readFileSync(html, 'utf8');
    assert.doesNotMatch(text, /<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)|<link /, 'no scripts, no external resources');
    assert.ok(fs.existsSync(CHROMIUM), 'Debian chromium is needed for this test (scripts/setup-debian.sh installs it)');
    // the DOM as the browser built it: one polyline per candidate layer in the gate chart
    const dom = headless(['--dump-dom', `file://${html}`]);
    assert.equal(dom.status, 0, String(dom.stderr));
    const gateChart = String(dom.stdout).split('<svg').find((svg) => svg.includes('Gate probability'))!;
    assert.equal(gateChart.match(/<polyline class="series"/g)?.length, 4);
    assert.match(gateChart, /points="(\d+(\.\d+)?,\d+(\.\d+)? ){3,}/, 'lines with points');
    // a screenshot: the series colours are really on screen
    const shot = path.join(root, 'shot.png');
    const screenshot = headless([`--screenshot=${shot}`, '--window-size=1000,1400', `file://${html}`]);
    assert.ok(fs.existsSync(shot), String(screenshot.stderr));
    const { data, info } = await sharp(shot).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const near = (r: number, g: number, b: number) => {
      let count = 0;
      for (let i = 0; i < data.length; i += info.channels) {
        if (Math.abs(data[i]! - r) < 30 && Math.abs(data[i + 1]! - g) < 30 && Math.abs(data[i + 2]! - b) < 30) count++;
      }
      return count;
    };
    assert.ok(near(0x1f, 0x77, 0xb4) > 200, 'blue series drawn');
    assert.ok(near(0xd6, 0x27, 0x28) > 200, 'red series drawn');
    assert.ok(near(0x2c, 0xa0, 0x2c) > 200, 'green series drawn');
  });

  it('names a folder that is not a run', () => {
    const result = runCli(['report', root]);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /is not a run directory \(no config\.json\)/);
  });
});
