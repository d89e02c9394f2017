#!/usr/bin/env node
// Prints the addon's C++ sources (native/**/*.cc) for binding.gyp, which cannot glob; CMakeLists.txt
// globs the same folder, so both builds always compile the same files.
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const sources = fs
  .readdirSync(path.join(root, 'native'), { recursive: true })
  .filter((file) => String(file).endsWith('.cc'))
  .map((file) => path.posix.join('native', String(file).split(path.sep).join('/')))
  .sort();
process.stdout.write(sources.join(' ') + '\n');
