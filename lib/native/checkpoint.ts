/**
 * Weights-only checkpoint files: reading `model.safetensors`, `pytorch_model.bin` and Lightning
 * `.ckpt` files (torch.save zip or legacy format, told apart by content), and writing safetensors.
 * Pickled code is never run: only tensors, storages and plain containers are understood, and any
 * other pickled global is refused with an error naming it. Malformed files reject with a DasError
 * of code DAS_CHECKPOINT, unreadable ones with DAS_FILE.
 */
import path from 'node:path';
import { invalidArgument } from '../errors.js';
import { validateHostTensor, type HostTensor } from '../host-tensor.js';
import type { NativeCheckpoint } from './binding.js';
import { callAsync } from './call.js';

export type { CheckpointFormat } from './binding.js';

/** format, tensor names in file order, tensors by name, string metadata. */
export type Checkpoint = NativeCheckpoint;

export interface ReadCheckpointOptions {
  /** Read only these tensors (names absent from the file are skipped). Default: all. */
  names?: readonly string[];
}

function checkPath(file: unknown, what: string): string {
  if (typeof file !== 'string' || file === '' || file.includes('\0')) throw invalidArgument(what, 'a file path', file);
  return path.resolve(file);
}

/**
 * Reads the tensors of a checkpoint: a Lightning checkpoint's `state_dict`, else the top-level dict
 * (HuggingFace `pytorch_model.bin`), or every tensor of a safetensors file. `metadata` holds the
 * safetensors `__metadata__`, or the scalar top-level fields of a Lightning checkpoint (`epoch`, ...).
 */
export async function readCheckpoint(file: string, options: ReadCheckpointOptions = {}): Promise<Checkpoint> {
  const resolved = checkPath(file, 'path');
  const { names } = options;
  if (names !== undefined && (!Array.isArray(names) || names.some((name) => typeof name !== 'string'))) {
    throw invalidArgument('names', 'an array of tensor names', names);
  }
  return callAsync((binding) => binding.readCheckpoint(resolved, names ? [...names] : null));
}

/** Writes named tensors and string metadata as safetensors, atomically (temp file, fsync, rename). */
export async function writeSafetensors(
  file: string,
  tensors: Record<string, HostTensor>,
  metadata: Record<string, string> = {},
): Promise<void> {
  const resolved = checkPath(file, 'path');
  if (typeof tensors !== 'object' || tensors === null || Array.isArray(tensors)) {
    throw invalidArgument('tensors', 'an object of named tensors', tensors);
  }
  for (const [name, tensor] of Object.entries(tensors)) {
    if (name === '__metadata__') throw invalidArgument('tensors', 'no tensor named "__metadata__" (reserved by safetensors)', name);
    validateHostTensor(tensor, `tensors["${name}"]`);
  }
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw invalidArgument('metadata', 'an object of strings', metadata);
  }
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') throw invalidArgument(`metadata["${key}"]`, 'a string', value);
  }
  return callAsync((binding) => binding.writeSafetensors(resolved, tensors, metadata));
}
