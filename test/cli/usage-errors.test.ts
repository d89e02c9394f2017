import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { prepareDemoFolder } from '../../lib/demo/demo.js';
import { snapshot } from '../support/folders.js';
import { lastJsonLine, runCli } from '../support/repo.js';

describe('command-line mistakes', () => {
  let root: string;
  before(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), 'das-usage-'))));
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  describe('with --json, a usage error still ends stdout with one JSON error object (exit 2)', () => {
    const cases: [string, string[], RegExp][] = [
      ['an unknown option', ['flops', '--model', 'roberta-base', '--bogus', '--json'], /unknown option '--bogus'/],
      ['a missing required option', ['search', '--model', 'roberta', '--json'], /required option .* not specified/],
      ['a value outside the choices', ['train', '--model', 'gpt', '--json'], /argument 'gpt' is invalid/],
      ['a malformed number', ['search', '--skip-num', 'two', '--json'], /expected an integer >= 1, got "two"/],
      ['a layer listed twice', ['train', '--skip', 'En1,En2,En1', '--json'], /expected each layer at most once, got En1 twice/],
      ['an unknown command', ['serach', '--json'], /unknown command 'serach'/],
      ['--json before the command', ['--json', 'flops', '--bogus'], /unknown option/],
    ];
    for (const [what, args, message] of cases) {
      it(what, () => {
        const result = runCli(args);
        assert.equal(result.status, 2, result.stderr);
        const last = lastJsonLine(result.stdout) as { error?: { code: string; message: string } };
        assert.equal(last.error?.code, 'DAS_INVALID_ARGUMENT');
        assert.match(last.error!.message, message);
        assert.match(result.stderr, message, 'people still read the error on stderr');
      });
    }

    it('without --json, stdout stays empty', () => {
      const result = runCli(['flops', '--bogus']);
      assert.equal(result.status, 2);
      assert.equal(result.stdout, '');
    });

    it('options after -- are not read as --json', () => {
      const result = runCli(['flops', '--bogus', '--', '--json']);
      assert.equal(result.status, 2);
      assert.equal(result.stdout, '');
    });
  });

  describe('das demo deletes only what an earlier demo wrote', () => {
    it('refuses a folder it did not write, changing nothing (runs/ of real runs included)', () => {
      const dir = path.join(root, 'work');
      fs.mkdirSync(path.join(dir, 'runs', 'search-roberta-sst2-1'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'runs', 'search-roberta-sst2-1', 'result.json'), '{"mine": true}');
      const before = snapshot(dir);
      const result = runCli(['demo', '--out', dir, '--json']);
      assert.equal(result.status, 2, result.stderr);
      assert.match((lastJsonLine(result.stdout) as any).error.message, /is not empty and was not written by das demo \(it has: runs\)/);
      assert.deepEqual(snapshot(dir), before);
    });

    it('in its own folder, removes its own entries and keeps everything else', () => {
      const dir = path.join(root, 'demo');
      const files = { '.das-demo.json': '{}', 'data/vqav2_train.arrow': 'x', 'checkpoint/model.safetensors': 'x', 'runs/das-search/config.json': '{}', 'report/report.html': 'x', 'runs/my-own-run/result.json': 'mine', 'notes.txt': 'mine' };
      for (const [name, content] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
        fs.writeFileSync(path.join(dir, name), content);
      }
      prepareDemoFolder(dir);
      assert.deepEqual(Object.keys(snapshot(dir)).sort(), ['.das-demo.json', 'notes.txt', 'runs', 'runs/my-own-run', 'runs/my-own-run/result.json']);
    });

    it('takes a new or empty folder, and refuses an empty --out', () => {
      prepareDemoFolder(path.join(root, 'fresh'));
      assert.deepEqual(fs.readdirSync(path.join(root, 'fresh')), ['.das-demo.json']);
      const result = runCli(['demo', '--out', '', '--json']);
      assert.equal(result.status, 2);
      assert.match((lastJsonLine(result.stdout) as any).error.message, /Expected a folder path for --out/);
    });
  });
});
