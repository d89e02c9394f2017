/**
 * A lazy reader for Arrow IPC *file* format (what pyarrow's RecordBatchFileWriter writes for the
 * ViLT/METER datasets). Real files hold many GB of encoded images, usually in a few record batches
 * of up to 2 GB each (pyarrow chunks binary columns at 2 GB), so reading a whole record batch is not
 * bounded memory. Instead this reads the footer and each batch's metadata, decodes only the
 * columns asked for (questions, labels: small) from their own byte range with apache-arrow's
 * makeData, and turns binary image columns into per-row byte ranges (ImageRef) that are read one
 * image at a time. Memory is O(text + 4 bytes per row), whatever the file size.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { Message, Type, makeData, makeVector, type DataType, type Field, type Schema, type Vector } from 'apache-arrow';
// The footer decoder is not re-exported from the package root; the package's exports map serves it.
import { Footer, type FileBlock } from 'apache-arrow/ipc/metadata/file';
import { strideForType } from 'apache-arrow/type';
import { DasError } from '../errors.js';
import { verifyFooter, verifyMessage } from './arrow-flatbuffers.js';
import type { ImageRef } from './image-source.js';

const MAGIC = Buffer.from('ARROW1');

interface Region {
  offset: number;
  length: number;
}

interface BatchMeta {
  block: FileBlock;
  bodyStart: number;
  length: number;
  nodes: Array<{ length: number; nullCount: number }>;
  buffers: Region[];
}

interface ColumnLayout {
  field: Field;
  firstNode: number;
  firstBuffer: number;
  bufferCount: number;
}

export class ArrowIpcFile {
  readonly path: string;
  readonly name: string;
  readonly schema: Schema;
  private readonly handle: FileHandle;
  private readonly batches: BatchMeta[];
  private readonly layout: Map<string, ColumnLayout>;

  private constructor(path: string, handle: FileHandle, schema: Schema, batches: BatchMeta[]) {
    this.path = path;
    this.name = basename(path);
    this.handle = handle;
    this.schema = schema;
    this.batches = batches;
    this.layout = computeLayout(schema, path);
  }

  /** Opens a file and reads its footer and record-batch metadata (not the bodies). */
  static async open(path: string): Promise<ArrowIpcFile> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (err) {
      throw new DasError('DAS_FILE', `Arrow file ${path} does not exist or cannot be read: ${(err as Error).message}`, { cause: err });
    }
    try {
      const { size } = await handle.stat();
      const head = Buffer.from(await readExact(handle, 0, Math.min(8, size)));
      const tail = Buffer.from(await readExact(handle, Math.max(0, size - 10), Math.min(10, size)));
      if (size < 18 || !head.subarray(0, 6).equals(MAGIC) || !tail.subarray(4, 10).equals(MAGIC)) {
        throw new DasError('DAS_FILE', `${path} is not a complete Arrow IPC file: the ARROW1 magic is missing at its start or end (a truncated download, or the stream format instead of the file format)`);
      }
      const footerLength = tail.readInt32LE(0);
      const footerStart = size - 10 - footerLength;
      if (footerLength <= 0 || footerStart < 8) throw new DasError('DAS_FILE', `${path} has a corrupt Arrow footer length (${footerLength} bytes in a ${size}-byte file)`);
      const footerBytes = await readExact(handle, footerStart, footerLength, path);
      let footer: InstanceType<typeof Footer>;
      let blocks: FileBlock[];
      try {
        verifyFooter(footerBytes);
        footer = Footer.decode(footerBytes);
        blocks = Array.from({ length: footer.numRecordBatches }, (_, i) => footer.getRecordBatch(i)!);
      } catch (err) {
        throw new DasError('DAS_FILE', `${path} has a corrupt Arrow footer: ${(err as Error).message}`, { cause: err });
      }
      if (footer.numDictionaries > 0) {
        throw new DasError('DAS_DATA', `${path} uses dictionary-encoded columns, which the dataset readers do not support; rewrite it without dictionaries`);
      }
      const batches: BatchMeta[] = [];
      for (const [i, block] of blocks.entries()) {
        if (![block.offset, block.metaDataLength, block.bodyLength].every((v) => Number.isSafeInteger(v) && v >= 0)) {
          throw new DasError('DAS_FILE', `${path} has a corrupt footer: record batch ${i} has offset ${block.offset}, metadata length ${block.metaDataLength}, body length ${block.bodyLength}`);
        }
        if (block.offset + block.metaDataLength + block.bodyLength > footerStart) {
          throw new DasError('DAS_FILE', `${path} is truncated or corrupt: record batch ${i} extends past the data section`);
        }
        batches.push(await readBatchMeta(handle, block, path, i));
      }
      return new ArrowIpcFile(path, handle, footer.schema, batches);
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  get numBatches(): number {
    return this.batches.length;
  }

  get numRows(): number {
    return this.batches.reduce((n, b) => n + b.length, 0);
  }

  batchLength(batch: number): number {
    return this.batch(batch).length;
  }

  get columnNames(): string[] {
    return this.schema.fields.map((f) => f.name);
  }

  /** Throws a DAS_DATA error naming the file and every required column that is missing. */
  requireColumns(names: readonly string[]): void {
    const missing = names.filter((n) => !this.layout.has(n));
    if (missing.length > 0) {
      throw new DasError('DAS_DATA', `Arrow file ${this.path} has no column ${missing.map((m) => JSON.stringify(m)).join(', ')} (it has: ${this.columnNames.join(', ')})`);
    }
  }

  /** Decodes one column of one record batch into plain JS values (bigint -> number, lists -> arrays). */
  async readColumn(batch: number, name: string): Promise<unknown[]> {
    const vector = await this.readVector(batch, name);
    const out = new Array<unknown>(vector.length);
    for (let i = 0; i < vector.length; i++) out[i] = toPlain(vector.get(i));
    return out;
  }

  /** Decodes one column of one record batch as an apache-arrow Vector. */
  async readVector(batch: number, name: string): Promise<Vector> {
    const meta = this.batch(batch);
    const col = this.column(name);
    const regions = meta.buffers.slice(col.firstBuffer, col.firstBuffer + col.bufferCount);
    const start = regions.length > 0 ? Math.min(...regions.map((r) => r.offset)) : 0;
    const end = regions.length > 0 ? Math.max(...regions.map((r) => r.offset + r.length)) : 0;
    const bytes = end > start ? await this.readBody(meta, start, end - start, `column "${name}"`) : new Uint8Array(0);
    const cursor = { node: col.firstNode, buffer: col.firstBuffer };
    const take = (): Uint8Array => {
      const r = meta.buffers[cursor.buffer++];
      if (!r) throw new Error(`buffer ${cursor.buffer - 1} is missing`);
      return bytes.subarray(r.offset - start, r.offset - start + r.length);
    };
    try {
      const data = buildData(col.field.type, meta, cursor, take);
      if (data.length !== meta.length) throw new Error(`the column holds ${data.length} values in a batch of ${meta.length} rows`);
      return makeVector(data);
    } catch (err) {
      throw new DasError('DAS_DATA', `Arrow file ${this.path} record batch ${batch} column "${name}" is corrupt: ${(err as Error).message}`, { cause: err });
    }
  }

  /**
   * Byte ranges of each row's value in a binary column (the encoded images), without reading the
   * values. Null rows give null.
   */
  async binaryRefs(batch: number, name: string): Promise<Array<ImageRef | null>> {
    const meta = this.batch(batch);
    const col = this.column(name);
    const typeId = col.field.type.typeId;
    if (typeId !== Type.Binary && typeId !== Type.LargeBinary) {
      throw new DasError('DAS_DATA', `Arrow file ${this.path} column "${name}" has type ${col.field.type} but encoded image bytes (binary) were expected`);
    }
    const node = meta.nodes[col.firstNode];
    const regions = meta.buffers.slice(col.firstBuffer, col.firstBuffer + 3);
    if (!node || regions.length < 3 || node.length !== meta.length || node.nullCount > node.length) {
      throw new DasError('DAS_DATA', `Arrow file ${this.path} record batch ${batch} column "${name}" is corrupt: its field node or buffers do not match the batch's ${meta.length} rows`);
    }
    const [validityR, offsetsR, dataR] = regions as [Region, Region, Region];
    const validity = validityR.length > 0 && node.nullCount > 0 ? await this.readBody(meta, validityR.offset, validityR.length, `column "${name}"`) : null;
    if (validity && validity.length < Math.ceil(node.length / 8)) {
      throw new DasError('DAS_DATA', `Arrow file ${this.path} record batch ${batch} column "${name}" has a short validity buffer`);
    }
    const rawOffsets = await this.readBody(meta, offsetsR.offset, offsetsR.length, `column "${name}"`);
    const large = typeId === Type.LargeBinary;
    const offsetAt = (i: number): number => (large ? Number(new DataView(rawOffsets.buffer, rawOffsets.byteOffset).getBigInt64(i * 8, true)) : new DataView(rawOffsets.buffer, rawOffsets.byteOffset).getInt32(i * 4, true));
    if (rawOffsets.length < (node.length + 1) * (large ? 8 : 4)) {
      throw new DasError('DAS_DATA', `Arrow file ${this.path} record batch ${batch} column "${name}" has a short offsets buffer`);
    }
    const refs = new Array<ImageRef | null>(node.length);
    for (let row = 0; row < node.length; row++) {
      if (validity && ((validity[row >> 3]! >> (row & 7)) & 1) === 0) {
        refs[row] = null;
        continue;
      }
      const from = offsetAt(row);
      const to = offsetAt(row + 1);
      if (from < 0 || to < from || to > dataR.length) {
        throw new DasError('DAS_DATA', `Arrow file ${this.path} record batch ${batch} row ${row} column "${name}" has offsets ${from}..${to} outside its ${dataR.length}-byte data buffer`);
      }
      refs[row] = { file: this.path, offset: meta.bodyStart + dataR.offset + from, length: to - from, label: `${this.name} record batch ${batch} row ${row} column ${name}` };
    }
    return refs;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }

  private batch(index: number): BatchMeta {
    const meta = this.batches[index];
    if (!meta) throw new DasError('DAS_INVALID_ARGUMENT', `Arrow file ${this.path} has ${this.batches.length} record batches; there is no batch ${index}`);
    return meta;
  }

  private column(name: string): ColumnLayout {
    this.requireColumns([name]);
    return this.layout.get(name)!;
  }

  private async readBody(meta: BatchMeta, offset: number, length: number, what: string): Promise<Uint8Array> {
    if (offset + length > meta.block.bodyLength) throw new DasError('DAS_DATA', `Arrow file ${this.path}: ${what} points past its record batch body`);
    return readExact(this.handle, meta.bodyStart + offset, length, this.path);
  }
}

/** Reads exactly `length` bytes into a fresh (8-byte aligned) buffer. */
async function readExact(handle: FileHandle, position: number, length: number, path = 'file'): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(out, done, length - done, position + done);
    if (bytesRead === 0) throw new DasError('DAS_FILE', `${path} is truncated: expected ${length} bytes at offset ${position}`);
    done += bytesRead;
  }
  return out;
}

async function readBatchMeta(handle: FileHandle, block: FileBlock, path: string, index: number): Promise<BatchMeta> {
  const raw = await readExact(handle, block.offset, block.metaDataLength, path);
  const view = new DataView(raw.buffer);
  // Since Arrow 0.15 each message starts with a 0xFFFFFFFF continuation marker, then its length.
  const continued = view.getInt32(0, true) === -1;
  const length = view.getInt32(continued ? 4 : 0, true);
  const start = continued ? 8 : 4;
  let meta: BatchMeta;
  let compressed: boolean;
  try {
    if (length <= 0 || start + length > raw.length) throw new Error(`metadata length ${length} does not fit its ${raw.length}-byte block`);
    verifyMessage(raw.subarray(start, start + length));
    // apache-arrow decodes the header lazily: every access below may meet a corrupt value
    const message: Message = Message.decode(raw.subarray(start, start + length));
    if (!message.isRecordBatch()) throw new Error('the block is not a record batch');
    const header = message.header();
    compressed = Boolean(header.compression);
    meta = {
      block,
      bodyStart: block.offset + block.metaDataLength,
      length: header.length,
      nodes: header.nodes.map((n) => ({ length: n.length, nullCount: n.nullCount })),
      buffers: header.buffers.map((b) => ({ offset: b.offset, length: b.length })),
    };
  } catch (err) {
    throw new DasError('DAS_FILE', `${path} record batch ${index} has corrupt metadata: ${(err as Error).message}`, { cause: err });
  }
  if (compressed) {
    throw new DasError('DAS_DATA', `${path} has compressed record batches (LZ4/ZSTD), which the dataset readers do not support; rewrite it uncompressed`);
  }
  const bad = [meta.length, meta.block.bodyLength, ...meta.nodes.flatMap((n) => [n.length, n.nullCount]), ...meta.buffers.flatMap((b) => [b.offset, b.length])].find((v) => !Number.isSafeInteger(v) || v < 0);
  if (bad !== undefined) throw new DasError('DAS_FILE', `${path} record batch ${index} has corrupt metadata: a length or offset of ${bad}`);
  return meta;
}

/** Where each top-level column's field nodes and buffers start (the IPC body lists them pre-order). */
function computeLayout(schema: Schema, name: string): Map<string, ColumnLayout> {
  const layout = new Map<string, ColumnLayout>();
  let node = 0;
  let buffer = 0;
  for (const field of schema.fields) {
    const counts = countNodesAndBuffers(field.type, name, field.name);
    layout.set(field.name, { field, firstNode: node, firstBuffer: buffer, bufferCount: counts.buffers });
    node += counts.nodes;
    buffer += counts.buffers;
  }
  return layout;
}

function countNodesAndBuffers(type: DataType, file: string, column: string): { nodes: number; buffers: number } {
  const nested = type.typeId === Type.List || type.typeId === Type.LargeList || type.typeId === Type.FixedSizeList;
  if ((type.children ?? []).some((c: Field | undefined) => !c?.type) || (nested && type.children?.length !== 1)) {
    throw new DasError('DAS_FILE', `Arrow file ${file} column "${column}" has a corrupt ${Type[type.typeId] ?? 'unknown'} type in its schema`);
  }
  const children = (type.children ?? []).map((c: Field) => countNodesAndBuffers(c.type, file, column));
  const sum = (own: number) => ({ nodes: 1 + children.reduce((n, c) => n + c.nodes, 0), buffers: own + children.reduce((n, c) => n + c.buffers, 0) });
  switch (type.typeId) {
    case Type.Null:
      return sum(0);
    case Type.Utf8:
    case Type.LargeUtf8:
    case Type.Binary:
    case Type.LargeBinary:
      return sum(3);
    case Type.List:
    case Type.LargeList:
      return sum(2);
    case Type.Struct:
    case Type.FixedSizeList:
      return sum(1);
    case Type.Bool:
    case Type.Int:
    case Type.Float:
    case Type.Date:
    case Type.Time:
    case Type.Timestamp:
    case Type.Decimal:
    case Type.FixedSizeBinary:
    case Type.Duration:
    case Type.Interval:
      return sum(2);
    default:
      throw new DasError('DAS_DATA', `Arrow file ${file} column "${column}" has type ${type}, which the dataset readers do not support`);
  }
}

type Cursor = { node: number; buffer: number };

/** Throws unless `bytes` holds at least `needed` bytes for `what` (a corrupt length would read past it). */
function need(bytes: Uint8Array, needed: number, what: string): void {
  if (bytes.byteLength < needed) throw new Error(`its ${what} buffer has ${bytes.byteLength} bytes where ${needed} are needed`);
}

/** The offsets buffer's first and last entries, which must lie inside what they index. */
function checkOffsets(offsets: Int32Array | BigInt64Array, length: number, limit: number, what: string): void {
  const first = Number(offsets[0] ?? 0);
  const last = Number(offsets[length] ?? 0);
  if (first < 0 || last < first || last > limit) throw new Error(`its offsets run from ${first} to ${last}, outside the ${limit} ${what}`);
}

function buildData(type: DataType, meta: BatchMeta, cursor: Cursor, take: () => Uint8Array): ReturnType<typeof makeData> {
  const node = meta.nodes[cursor.node++];
  if (!node) throw new Error(`field node ${cursor.node - 1} is missing`);
  if (node.nullCount > node.length) throw new Error(`${node.nullCount} nulls in ${node.length} values`);
  const base = { type, length: node.length, nullCount: node.nullCount } as const;
  if (type.typeId === Type.Null) return makeData(base as never);
  const validity = take();
  if (node.nullCount > 0) need(validity, Math.ceil(node.length / 8), 'validity');
  const nullBitmap = node.nullCount > 0 ? validity : undefined;
  const offsets = <T extends Int32Array | BigInt64Array>(Ctor: { new (b: ArrayBufferLike, o: number, n: number): T; BYTES_PER_ELEMENT: number }): T => {
    const bytes = take();
    need(bytes, node.length > 0 ? (node.length + 1) * Ctor.BYTES_PER_ELEMENT : 0, 'offsets');
    return aligned(Ctor, bytes);
  };
  switch (type.typeId) {
    case Type.Utf8:
    case Type.Binary:
    case Type.LargeUtf8:
    case Type.LargeBinary: {
      const valueOffsets = type.typeId === Type.Utf8 || type.typeId === Type.Binary ? offsets(Int32Array) : offsets(BigInt64Array);
      const data = take();
      checkOffsets(valueOffsets, node.length, data.byteLength, 'data bytes');
      return makeData({ ...base, nullBitmap, valueOffsets, data } as never);
    }
    case Type.List:
    case Type.LargeList: {
      const valueOffsets = type.typeId === Type.List ? offsets(Int32Array) : offsets(BigInt64Array);
      const child = buildData(type.children[0]!.type, meta, cursor, take);
      checkOffsets(valueOffsets, node.length, child.length, 'child values');
      return makeData({ ...base, nullBitmap, valueOffsets, child } as never);
    }
    case Type.FixedSizeList: {
      const child = buildData(type.children[0]!.type, meta, cursor, take);
      const size = (type as unknown as { listSize: number }).listSize;
      if (child.length < node.length * size) throw new Error(`${node.length} lists of ${size} need ${node.length * size} child values, not ${child.length}`);
      return makeData({ ...base, nullBitmap, child } as never);
    }
    case Type.Struct: {
      const children = type.children.map((c: Field) => buildData(c.type, meta, cursor, take));
      if (children.some((c) => c.length < node.length)) throw new Error(`a struct child holds fewer than its ${node.length} values`);
      return makeData({ ...base, nullBitmap, children } as never);
    }
    default: {
      const ArrayType = (type as unknown as { ArrayType: TypedArrayCtor }).ArrayType;
      const data = take();
      need(data, type.typeId === Type.Bool ? Math.ceil(node.length / 8) : node.length * strideForType(type) * ArrayType.BYTES_PER_ELEMENT, 'data');
      return makeData({ ...base, nullBitmap, data: aligned(ArrayType, data) } as never);
    }
  }
}

type TypedArrayCtor = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): ArrayLike<unknown>; BYTES_PER_ELEMENT: number };

/** A typed view over bytes, copied first when the writer did not align the buffer. */
function aligned<T>(Ctor: { new (buffer: ArrayBufferLike, byteOffset: number, length: number): T; BYTES_PER_ELEMENT: number }, bytes: Uint8Array): T {
  const n = Math.floor(bytes.byteLength / Ctor.BYTES_PER_ELEMENT);
  if (bytes.byteOffset % Ctor.BYTES_PER_ELEMENT === 0) return new Ctor(bytes.buffer, bytes.byteOffset, n);
  const copy = new Uint8Array(bytes);
  return new Ctor(copy.buffer, 0, n);
}

/** Arrow values to plain JS: nested vectors to arrays, int64 to number (ids fit in 2^53). */
export function toPlain(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'object' && value !== null && typeof (value as { toArray?: unknown }).toArray === 'function' && Symbol.iterator in value && !ArrayBuffer.isView(value)) {
    return Array.from(value as Iterable<unknown>, toPlain);
  }
  return value;
}
