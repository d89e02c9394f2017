import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { publicDeclarations, referencedDeclarations, type DeclRef } from '../support/dts.js';
import { repoRoot, runCli } from '../support/repo.js';

type Progress = typeof import('../../scripts/build-progress.mjs');
const { formatElapsed, parseBuildProgress } = (await import(pathToFileURL(path.join(repoRoot, 'scripts/build-progress.mjs')).href)) as Progress;

const key = (ref: DeclRef) => `${path.relative(repoRoot, ref.file)}#${ref.name}`;

describe('packaging for the tools that link us', function () {
  this.timeout(120_000);
  let packed: string[];
  before(() => {
    const pack = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: repoRoot, encoding: 'utf8' });
    assert.equal(pack.status, 0, pack.stderr);
    packed = (JSON.parse(pack.stdout) as [{ files: { path: string }[] }])[0].files.map((f) => f.path);
  });

  it('ships the MIT license that package.json names', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { license: string };
    assert.equal(manifest.license, 'MIT');
    assert.ok(packed.includes('LICENSE'));
    assert.match(fs.readFileSync(path.join(repoRoot, 'LICENSE'), 'utf8'), /^MIT License\n\nCopyright \(c\) \d{4} /);
  });

  it('every source map in the package points at sources the package holds', () => {
    const maps = packed.filter((f) => f.endsWith('.map'));
    assert.ok(maps.length > 100, `${maps.length} maps`);
    const shipped = new Set(packed);
    const dangling: string[] = [];
    for (const map of maps) {
      const { sources, sourceRoot = '' } = JSON.parse(fs.readFileSync(path.join(repoRoot, map), 'utf8')) as { sources: string[]; sourceRoot?: string };
      for (const source of sources) {
        const target = path.normalize(path.join(path.dirname(map), sourceRoot, source));
        if (!shipped.has(target)) dangling.push(`${map} -> ${target}`);
      }
    }
    assert.deepEqual(dangling, []);
    for (const js of packed.filter((f) => f.endsWith('.js') && f.startsWith('dist/'))) {
      const url = /\/\/# sourceMappingURL=(.+)$/m.exec(fs.readFileSync(path.join(repoRoot, js), 'utf8'))?.[1];
      if (url) assert.ok(shipped.has(path.join(path.dirname(js), url)), `${js} maps to ${url}`);
    }
  });

  it('ships no tests, build trees or the addon binary built here', () => {
    assert.deepEqual(packed.filter((f) => /^(dist\/test|test|build|build-gyp|node_modules)\//.test(f) || f.endsWith('.node')), []);
  });

  it('exports every type of ours that a public signature uses, so users can name it', () => {
    const index = path.join(repoRoot, 'dist/lib/index.d.ts');
    const exported = publicDeclarations(index);
    const reachable = new Set([...exported.values()].map(key));
    const missing = new Set<string>();
    const queue = [...exported.values()];
    const seen = new Set<string>();
    while (queue.length) {
      const decl = queue.pop()!;
      if (seen.has(key(decl))) continue;
      seen.add(key(decl));
      for (const used of referencedDeclarations(decl)) {
        if (!reachable.has(key(used))) missing.add(`${used.name} (${path.relative(repoRoot, used.file)}), used by ${decl.name}`);
        queue.push(used);
      }
    }
    assert.deepEqual([...missing].sort(), []);
    for (const name of ['Task', 'Arch', 'EvalMetrics', 'ProgressEvent', 'SkipSource', 'ParamsSummary', 'Predictor', 'DasErrorCode']) assert.ok(exported.has(name), `${name} is exported`);
  });

  it('without the addon (install scripts skipped), the error gives the command that builds it inside the package', () => {
    const result = runCli(['doctor', '--json'], { DAS_ADDON_PATH: path.join(repoRoot, 'build', 'missing', 'das_torch.node') });
    assert.equal(result.status, 1);
    assert.ok(result.stderr.includes(`node ${path.join(repoRoot, 'scripts', 'build-native.mjs')}`), result.stderr);
    assert.match(result.stderr, /skipped install scripts: npm --ignore-scripts, pnpm, bun/);
    assert.doesNotMatch(result.stderr, /Require stack/);
    assert.equal((JSON.parse(result.stdout.trim().split('\n').pop()!) as { error: { code: string } }).error.code, 'DAS_ADDON_LOAD');
  });

  it('the install script turns Make and Ninja output into progress lines', () => {
    const lines: [string, ReturnType<typeof parseBuildProgress>][] = [
      ['[ 45%] Building CXX object CMakeFiles/das_torch.dir/native/models/vilt.cc.o', { percent: 45, step: 'compiling native/models/vilt.cc' }],
      ['[12/57] Building CXX object CMakeFiles/das_torch.dir/native/binding/addon.cc.o', { percent: 21, step: 'compiling native/binding/addon.cc' }],
      ['[57/57] Linking CXX shared library Release/das_torch.node', { percent: 100, step: 'linking the addon' }],
      ['[100%] Linking CXX shared module Release/das_torch.node', { percent: 100, step: 'linking the addon' }],
      ['[ 50%] Built target das_torch', null],
      ['-- Configuring done', null],
      ['/work/native/models/vilt.cc:12:3: error: expected ;', null],
    ];
    for (const [line, progress] of lines) assert.deepEqual(parseBuildProgress(line), progress, line);
    assert.deepEqual([formatElapsed(4_400), formatElapsed(65_000), formatElapsed(600_000)], ['4s', '1m05s', '10m00s']);
  });
});
