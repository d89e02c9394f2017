#!/usr/bin/env node
// Builds the addon with node-gyp from binding.gyp, in build-gyp/ so that it never overwrites the
// cmake-js build in build/. The result is build-gyp/build/Release/das_torch.node; load it with
// DAS_ADDON_PATH=build-gyp/build/Release/das_torch.node.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const stage = path.join(root, 'build-gyp');
fs.mkdirSync(stage, { recursive: true });
fs.copyFileSync(path.join(root, 'binding.gyp'), path.join(stage, 'binding.gyp'));
for (const dir of ['native', 'scripts']) {
  const link = path.join(stage, dir);
  fs.rmSync(link, { recursive: true, force: true });
  fs.symlinkSync(path.join(root, dir), link);
}

const args = [createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js'), 'rebuild', '--jobs', String(os.availableParallelism())];
// Offline machines: build against the headers of the installed Node.js instead of downloading them.
const headers = path.resolve(path.dirname(process.execPath), '../include/node/node_api.h');
if (!process.env.npm_config_nodedir && fs.existsSync(headers)) args.push(`--nodedir=${path.resolve(headers, '../../..')}`);
// ccache when installed (as the cmake-js build uses it), with paths relative to the checkout
const ccache = ['/usr/bin/ccache', '/usr/local/bin/ccache'].find((p) => fs.existsSync(p));
const env = { ...process.env };
if (ccache && !process.env.CXX && process.env.DAS_NO_CCACHE === undefined) {
  Object.assign(env, { CXX: `${ccache} g++`, CC: `${ccache} gcc`, CCACHE_BASEDIR: root, CCACHE_NOHASHDIR: '1' });
}
const result = spawnSync(process.execPath, args, { cwd: stage, stdio: 'inherit', env });
process.exit(result.status ?? 1);
