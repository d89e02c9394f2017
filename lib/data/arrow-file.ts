/**
 * A lazy reader for Arrow IPC *file* format (what pyarrow's RecordBatchFileWriter writes for the
 * ViLT/METER datasets). Real files hold many GB of encoded images, usually in a few record batches
 * of up to 2 GB each (pyarrow chunks binary columns at 2 GB), so reading a whole record batch is not
 * bounded memory. Instead this reads the footer and each batch's metadata, decodes only the
 * columns asked for (questions, labels: small) from their own byte range with apache-arrow's
 * makeData, and turns binary image columns into per-row byte ranges (ImageRef) that are read one
 * image at a time. Memory is O(text + 4 bytes per row), whatever the file size.
 */
import type { FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { Message, Type, makeData, makeVector, type DataType, type Field, type Schema, type Vector } from 'apache-arrow';
// The footer decoder is not re-exported from the package root; the package's exports map serves it.
import { Footer, type FileBlock } from 'apache-arrow/ipc/metadata/file';
import { DasError } from '../errors.js';
import type { ImageRef } from './image-source.js';
import { openRegularFile } from '../util/regular-file.js';
import { checkFooterBounds, checkRecordBatchBounds } from './arrow-bounds.js';

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
  nodeCount: number;
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
    this.layout = computeLayout(schema, this.path);
    batches.forEach((meta, i) => this.checkBatch(meta, i));
  }

  /**
   * The batch's metadata must fit its schema and body before anything is decoded: every field
   * node and buffer present, buffers inside the body, every column as long as the batch. A
   * corrupt length could otherwise make a reader allocate without bound.
   */
  private checkBatch(meta: BatchMeta, index: number): void {
    const where = `${this.path} record batch ${index}`;
    const columns = [...this.layout.values()];
    const last = columns.at(-1);
    const nodes = last ? last.firstNode + last.nodeCount : 0;
    const buffers = last ? last.firstBuffer + last.bufferCount : 0;
    if (meta.nodes.length < nodes || meta.buffers.length < buffers) {
      throw new DasError('DAS_FILE', `${where} is corrupt: it describes ${meta.nodes.length} field nodes and ${meta.buffers.length} buffers where its schema needs ${nodes} and ${buffers}`);
    }
    if (!Number.isSafeInteger(meta.length) || meta.length < 0) throw new DasError('DAS_FILE', `${where} is corrupt: it claims ${meta.length} rows`);
    meta.buffers.forEach((r, i) => {
      if (!(r.offset >= 0 && r.length >= 0 && r.offset + r.length <= meta.block.bodyLength)) {
        throw new DasError('DAS_FILE', `${where} is corrupt: buffer ${i} (${r.length} bytes at ${r.offset}) lies outside its ${meta.block.bodyLength}-byte body`);
      }
    });
    meta.nodes.forEach((n, i) => {
      if (!(Number.isSafeInteger(n.length) && n.length >= 0 && n.nullCount >= 0 && n.nullCount <= n.length)) {
        throw new DasError('DAS_FILE', `${where} is corrupt: field node ${i} claims ${n.length} values with ${n.nullCount} nulls`);
      }
    });
    for (const column of columns) {
      const length = meta.nodes[column.firstNode]!.length;
      if (length !== meta.length) throw new DasError('DAS_FILE', `${where} is corrupt: column "${column.field.name}" has ${length} rows where the batch has ${meta.length}`);
    }
  }

  /** Opens a file and reads its footer and record-batch metadata (not the bodies). */
  static async open(path: string): Promise<ArrowIpcFile> {
    // only a regular file: a FIFO or a device named by mistake would block or never end
    const { handle, size } = await openRegularFile(path, { what: 'Arrow file' });
    try {
      const head = Buffer.from(await readExact(handle, 0, Math.min(8, size), path));
      const tail = Buffer.from(await readExact(handle, Math.max(0, size - 10), Math.min(10, size), path));
      if (size < 18 || !head.subarray(0, 6).equals(MAGIC) || !tail.subarray(4, 10).equals(MAGIC)) {
        throw new DasError('DAS_FILE', `${path} is not a complete Arrow IPC file: the ARROW1 magic is missing at its start or end (a truncated download, or the stream format instead of the file format)`);
      }
      const footerLength = tail.readInt32LE(0);
      const footerStart = size - 10 - footerLength;
      if (footerLength <= 0 || footerStart < 8) throw new DasError('DAS_FILE', `${path} has a corrupt Arrow footer length (${footerLength} bytes in a ${size}-byte file)`);
      let footer: InstanceType<typeof Footer>;
      try {
        const bytes = await readExact(handle, footerStart, footerLength, path);
        checkFooterBounds(bytes);
        footer = Footer.decode(bytes);
      } catch (err) {
        throw new DasError('DAS_FILE', `${path} has a corrupt Arrow footer: ${(err as Error).message}`, { cause: err });
      }
      if (footer.numDictionaries > 0) {
        throw new DasError('DAS_DATA', `${path} uses dictionary-encoded columns, which the dataset readers do not support; rewrite it without dictionaries`);
      }
      const batches: BatchMeta[] = [];
      for (let i = 0; i < footer.numRecordBatches; i++) {
        let block: FileBlock | null;
        try {
          block = footer.getRecordBatch(i);
        } catch (err) {
          throw new DasError('DAS_FILE', `${path} has a corrupt Arrow footer: record batch ${i}: ${(err as Error).message}`, { cause: err });
        }
        const sane = block && block.offset >= 8 && block.metaDataLength >= 8 && block.bodyLength >= 0 && [block.offset, block.metaDataLength, block.bodyLength].every(Number.isSafeInteger);
        if (!block || !sane || block.offset + block.metaDataLength + block.bodyLength > footerStart) {
          throw new DasError('DAS_FILE', `${path} is truncated or corrupt: record batch ${i} does not lie inside the data section`);
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

  /**
   * Fails, naming the file and each column, when a column does not hold the expected type.
   * Types are written "binary", "string", "int", "number" (int or float) and "list<...>".
   */
  requireColumnTypes(expected: Readonly<Record<string, string>>): void {
    const wrong = Object.entries(expected).flatMap(([name, spec]) => {
      const type = this.layout.get(name)?.field.type;
      return type && !typeMatches(type, spec) ? [`column "${name}" holds ${typeName(type)} where ${spec} was expected`] : [];
    });
    if (wrong.length > 0) throw new DasError('DAS_DATA', `Arrow file ${this.path}: ${wrong.join('; ')}`);
  }

  /** Decodes one column of one record batch into plain JS values (bigint -> number, lists -> arrays). */
  async readColumn(batch: number, name: string): Promise<unknown[]> {
    const vector = await this.readVector(batch, name);
    const out = new Array<unknown>(vector.length);
    try {
      for (let i = 0; i < vector.length; i++) out[i] = toPlain(vector.get(i));
    } catch (err) {
      throw new DasError('DAS_DATA', `Arrow file ${this.path} record batch ${batch} column "${name}" is corrupt: ${(err as Error).message}`, { cause: err });
    }
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
      const r = meta.buffers[cursor.buffer++]!;
      return bytes.subarray(r.offset - start, r.offset - start + r.length);
    };
    try {
      return makeVector(buildData(col.field.type, meta, cursor, take));
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
    const node = meta.nodes[col.firstNode]!;
    const [validityR, offsetsR, dataR] = meta.buffers.slice(col.firstBuffer, col.firstBuffer + 3) as [Region, Region, Region];
    if (node.nullCount > 0 && validityR.length < Math.ceil(node.length / 8)) {
      throw new DasError('DAS_DATA', `Arrow file ${this.path} record batch ${batch} column "${name}" has a short validity bitmap`);
    }
    const validity = validityR.length > 0 && node.nullCount > 0 ? await this.readBody(meta, validityR.offset, validityR.length, `column "${name}"`) : null;
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
async function readExact(handle: FileHandle, position: number, length: number, path: string): Promise<Uint8Array> {
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
  try {
    if (raw.length < 8) throw new Error(`its ${raw.length}-byte metadata block is too short`);
    // Since Arrow 0.15 each message starts with a 0xFFFFFFFF continuation marker, then its length.
    const continued = view.getInt32(0, true) === -1;
    const length = view.getInt32(continued ? 4 : 0, true);
    const start = continued ? 8 : 4;
    if (length <= 0 || start + length > raw.length) throw new Error(`metadata length ${length} does not fit its ${raw.length}-byte block`);
    checkRecordBatchBounds(raw.subarray(start, start + length));
    const message = Message.decode(raw.subarray(start, start + length));
    if (!message.isRecordBatch()) throw new Error('the block is not a record batch');
    const header = message.header();
    if (header.compression) {
      throw new DasError('DAS_DATA', `${path} has compressed record batches (LZ4/ZSTD), which the dataset readers do not support; rewrite it uncompressed`);
    }
    return {
      block,
      bodyStart: block.offset + block.metaDataLength,
      length: header.length,
      nodes: header.nodes.map((n) => ({ length: n.length, nullCount: n.nullCount })),
      buffers: header.buffers.map((b) => ({ offset: b.offset, length: b.length })),
    };
  } catch (err) {
    if (err instanceof DasError) throw err;
    throw new DasError('DAS_FILE', `${path} record batch ${index} has corrupt metadata: ${(err as Error).message}`, { cause: err });
  }
}

/** Where each top-level column's field nodes and buffers start (the IPC body lists them pre-order). */
function computeLayout(schema: Schema, name: string): Map<string, ColumnLayout> {
  const layout = new Map<string, ColumnLayout>();
  let node = 0;
  let buffer = 0;
  for (const field of schema.fields) {
    const counts = countNodesAndBuffers(field.type, name, field.name);
    layout.set(field.name, { field, firstNode: node, nodeCount: counts.nodes, firstBuffer: buffer, bufferCount: counts.buffers });
    node += counts.nodes;
    buffer += counts.buffers;
  }
  return layout;
}

function countNodesAndBuffers(type: DataType, file: string, column: string): { nodes: number; buffers: number } {
  const fields: (Field | undefined)[] = type.children ?? [];
  const nested = [Type.List, Type.LargeList, Type.FixedSizeList].includes(type.typeId);
  if (fields.some((c) => !c?.type) || (nested && fields.length !== 1)) throw new DasError('DAS_FILE', `Arrow file ${file} column "${column}" has a corrupt nested type (${Type[type.typeId]} without its child type)`);
  const children = fields.map((c) => countNodesAndBuffers(c!.type, file, column));
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

function typeMatches(type: DataType, spec: string): boolean {
  const list = /^list<(.*)>$/.exec(spec);
  if (list) return (type.typeId === Type.List || type.typeId === Type.LargeList) && typeMatches(type.children[0]!.type, list[1]!);
  switch (spec) {
    case 'binary':
      return type.typeId === Type.Binary || type.typeId === Type.LargeBinary;
    case 'string':
      return type.typeId === Type.Utf8 || type.typeId === Type.LargeUtf8;
    case 'int':
      return type.typeId === Type.Int;
    case 'number':
      return type.typeId === Type.Int || type.typeId === Type.Float;
    default:
      return false;
  }
}

/** A type in the notation of requireColumnTypes where it has one (list<string>), else Arrow's name. */
function typeName(type: DataType): string {
  if (type.typeId === Type.List || type.typeId === Type.LargeList) return `list<${typeName(type.children[0]!.type)}>`;
  if (type.typeId === Type.Binary || type.typeId === Type.LargeBinary) return 'binary';
  if (type.typeId === Type.Utf8 || type.typeId === Type.LargeUtf8) return 'string';
  return String(type).toLowerCase();
}

type Cursor = { node: number; buffer: number };

/** Throws (for readVector to name the file) when a buffer is too short for the values its node claims. */
function need(bytes: { byteLength: number }, min: number, what: string): void {
  if (bytes.byteLength < min) throw new Error(`its ${what} holds ${bytes.byteLength} bytes where ${min} are needed`);
}

/** Offsets must start at 0 or more, never decrease, and end within `limit` values. */
function checkOffsets(offsets: Int32Array | BigInt64Array, length: number, limit: number): void {
  let previous = Number(offsets[0]);
  if (previous < 0) throw new Error(`its first offset is ${previous}`);
  for (let i = 1; i <= length; i++) {
    const next = Number(offsets[i]);
    if (next < previous) throw new Error(`its offsets decrease at row ${i - 1}`);
    previous = next;
  }
  if (previous > limit) throw new Error(`its last offset ${previous} is past the ${limit} values it indexes`);
}

function buildData(type: DataType, meta: BatchMeta, cursor: Cursor, take: () => Uint8Array): ReturnType<typeof makeData> {
  const node = meta.nodes[cursor.node++]!;
  const base = { type, length: node.length, nullCount: node.nullCount } as const;
  if (type.typeId === Type.Null) return makeData(base as never);
  const validity = take();
  if (node.nullCount > 0) need(validity, Math.ceil(node.length / 8), 'validity bitmap');
  const nullBitmap = node.nullCount > 0 ? validity : undefined;
  switch (type.typeId) {
    case Type.Utf8:
    case Type.Binary:
    case Type.LargeUtf8:
    case Type.LargeBinary: {
      const large = type.typeId === Type.LargeUtf8 || type.typeId === Type.LargeBinary;
      const raw = take();
      need(raw, (node.length + 1) * (large ? 8 : 4), 'offsets buffer');
      const valueOffsets = large ? aligned(BigInt64Array, raw) : aligned(Int32Array, raw);
      const data = take();
      checkOffsets(valueOffsets, node.length, data.byteLength);
      return makeData({ ...base, nullBitmap, valueOffsets, data } as never);
    }
    case Type.List:
    case Type.LargeList: {
      const large = type.typeId === Type.LargeList;
      const raw = take();
      need(raw, (node.length + 1) * (large ? 8 : 4), 'offsets buffer');
      const valueOffsets = large ? aligned(BigInt64Array, raw) : aligned(Int32Array, raw);
      const child = buildData(type.children[0]!.type, meta, cursor, take);
      checkOffsets(valueOffsets, node.length, child.length);
      return makeData({ ...base, nullBitmap, valueOffsets, child } as never);
    }
    case Type.FixedSizeList: {
      const child = buildData(type.children[0]!.type, meta, cursor, take);
      need({ byteLength: child.length }, node.length * (type as unknown as { listSize: number }).listSize, 'child values');
      return makeData({ ...base, nullBitmap, child } as never);
    }
    case Type.Struct: {
      const children = type.children.map((c: Field) => buildData(c.type, meta, cursor, take));
      for (const child of children) need({ byteLength: child.length }, node.length, 'child values');
      return makeData({ ...base, nullBitmap, children } as never);
    }
    default: {
      const ArrayType = (type as unknown as { ArrayType: TypedArrayCtor }).ArrayType;
      const data = take();
      // Bool packs 8 values a byte; Int and Float take their array's width; every other fixed-width type a byte or more
      const numeric = type.typeId === Type.Int || type.typeId === Type.Float;
      need(data, type.typeId === Type.Bool ? Math.ceil(node.length / 8) : numeric ? node.length * ArrayType.BYTES_PER_ELEMENT : node.length, 'data buffer');
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
