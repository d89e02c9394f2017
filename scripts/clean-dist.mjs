#!/usr/bin/env node
// Removes dist/ before TypeScript rebuilds it: tsc never deletes the output of a source file that
// was renamed or removed, and a stale file would be packed (and a stale test run) as if it were current.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

fs.rmSync(path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist'), { recursive: true, force: true });
