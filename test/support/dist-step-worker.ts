/**
 * One rank of a 2-rank optimizer step (test/dist/data-parallel-step.test.ts): joins the job from
 * torchrun's variables, steps on its half of the batch, and writes its trainable tensors.
 * usage: node dist-step-worker.js <roberta|vilt> <out-dir>
 */
import path from 'node:path';
import { distEnvFrom } from '../../lib/dist/env.js';
import { joinWorld } from '../../lib/dist/world.js';
import { writeSafetensors } from '../../lib/native/checkpoint.js';
import { HEAD_LR_MULTIPLIER, LR, SKIP, stepCase, type StepArchitecture } from './dist-step-case.js';

const [arch, out] = process.argv.slice(2) as [StepArchitecture, string];
const world = await joinWorld({ env: distEnvFrom().env, device: 'cpu', timeoutSeconds: 300 });
const { model, halves } = await stepCase(arch);
await model.configureOptimizer({ weightDecay: 0.01, headLrMultiplier: HEAD_LR_MULTIPLIER });
await world.attach(model);
await model.trainStep(halves[world.rank]!, { skip: SKIP });
await model.optimizerStep(LR);
await writeSafetensors(path.join(out, `rank${world.rank}.safetensors`), await model.state('trainable'), {});
await world.close();
