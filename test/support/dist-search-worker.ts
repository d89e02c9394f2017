/**
 * One rank of a data-parallel search through the API (test/dist/runs.test.ts): writes what this
 * rank's search returned to <result-file>.rank<r>.json, so that the test can compare every rank.
 * usage: node dist-search-worker.js '<SearchOptions as JSON>' <result-file>
 */
import fs from 'node:fs';
import { distEnvFrom } from '../../lib/dist/env.js';
import { search } from '../../lib/train/runs.js';

const options = JSON.parse(process.argv[2]!);
const result = await search({ ...options, distTimeout: 120 });
fs.writeFileSync(`${process.argv[3]}.rank${distEnvFrom().env?.rank ?? 0}.json`, JSON.stringify(result));
