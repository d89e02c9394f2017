/**
 * Worker-thread entry for image preparation: reads the bytes itself (from a file or an Arrow byte
 * range), decodes and transforms them, and transfers the float32 result back without a copy.
 */
import { parentPort } from 'node:worker_threads';
import { DasError } from '../errors.js';
import { readImageBytes, type ImageRef } from './image-source.js';
import { prepareImage, type ImageTransformConfig } from './image-transform.js';

export interface ImageTask {
  id: number;
  ref: ImageRef;
  config: ImageTransformConfig;
  seed: number;
}

export type ImageTaskResult =
  | { id: number; data: Float32Array; width: number; height: number }
  | { id: number; error: { code: string; message: string } };

if (parentPort) {
  const port = parentPort;
  port.on('message', (task: ImageTask) => {
    void (async () => {
      try {
        const bytes = await readImageBytes(task.ref);
        const img = await prepareImage(bytes, task.config, { seed: task.seed, label: task.ref.label });
        const result: ImageTaskResult = { id: task.id, data: img.data, width: img.width, height: img.height };
        port.postMessage(result, [img.data.buffer as ArrayBuffer]);
      } catch (err) {
        const code = err instanceof DasError ? err.code : 'DAS_DATA';
        port.postMessage({ id: task.id, error: { code, message: (err as Error).message } } satisfies ImageTaskResult);
      }
    })();
  });
}
