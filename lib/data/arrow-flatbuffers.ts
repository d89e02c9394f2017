/**
 * A bounds check of the FlatBuffers metadata of an Arrow IPC file (its footer and each record
 * batch's message) before apache-arrow decodes it. The library trusts every vector length it reads:
 * a corrupt length of 2^31 nodes makes it build two billion objects (a hang, then out of memory),
 * and offsets outside the buffer read zeros instead of failing. Here every table, vector and string
 * the decoder will visit must lie inside the bytes, so a corrupt file is refused at once.
 */

/** The fields decoded, by their index in each FlatBuffers table (Arrow's Schema.fbs, Message.fbs, File.fbs). */
type FieldCheck = { index: number; kind: 'table'; check: TableCheck } | { index: number; kind: 'vector'; element: number; each?: TableCheck } | { index: number; kind: 'string' };
type TableCheck = () => FieldCheck[];

const keyValue: TableCheck = () => [{ index: 0, kind: 'string' }, { index: 1, kind: 'string' }];
const field: TableCheck = () => [
  { index: 0, kind: 'string' },
  { index: 3, kind: 'table', check: () => [] }, // the type's own table: its fields are scalars
  { index: 4, kind: 'table', check: () => [] },
  { index: 5, kind: 'vector', element: 4, each: field },
  { index: 6, kind: 'vector', element: 4, each: keyValue },
];
const schema: TableCheck = () => [
  { index: 1, kind: 'vector', element: 4, each: field },
  { index: 2, kind: 'vector', element: 4, each: keyValue },
  { index: 3, kind: 'vector', element: 8 },
];
const footer: TableCheck = () => [
  { index: 1, kind: 'table', check: schema },
  { index: 2, kind: 'vector', element: 24 },
  { index: 3, kind: 'vector', element: 24 },
  { index: 4, kind: 'vector', element: 4, each: keyValue },
];
const recordBatch: TableCheck = () => [
  { index: 1, kind: 'vector', element: 16 },
  { index: 2, kind: 'vector', element: 16 },
  { index: 3, kind: 'table', check: () => [] },
  { index: 4, kind: 'vector', element: 8 },
];
const message: TableCheck = () => [
  { index: 2, kind: 'table', check: recordBatch },
  { index: 4, kind: 'vector', element: 4, each: keyValue },
];
/** Message.header_type of a record batch (the only message a data block may hold). */
const RECORD_BATCH = 3;

/** Throws an Error saying what lies outside the bytes; the caller names the file. */
function verify(bytes: Uint8Array, root: TableCheck, what: string): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let budget = Math.max(64, bytes.length); // tables visited: each takes at least a few bytes
  const inside = (at: number, length: number, thing: string) => {
    if (!(at >= 0 && length >= 0 && at + length <= bytes.length)) throw new Error(`${what}: ${thing} lies outside its ${bytes.length} bytes`);
  };
  const u32 = (at: number, thing: string) => (inside(at, 4, thing), view.getUint32(at, true));
  const table = (at: number, check: TableCheck, depth: number): void => {
    if (--budget < 0 || depth > 64) throw new Error(`${what}: nested too deeply or too many tables`);
    inside(at, 4, 'a table');
    const vtable = at - view.getInt32(at, true);
    inside(vtable, 4, 'a vtable');
    const vtableSize = view.getUint16(vtable, true);
    inside(vtable, vtableSize, 'a vtable');
    for (const f of check()) {
      const slot = 4 + 2 * f.index;
      if (slot + 2 > vtableSize) continue; // the field is absent
      const offset = view.getUint16(vtable + slot, true);
      if (offset === 0) continue;
      const position = at + offset;
      const target = position + u32(position, 'an offset');
      if (f.kind === 'table') table(target, f.check, depth + 1);
      else {
        const length = u32(target, 'a vector length');
        inside(target + 4, length * (f.kind === 'string' ? 1 : f.element), f.kind === 'string' ? 'a string' : `a vector of ${length} entries`);
        if (f.kind === 'vector' && f.each) for (let i = 0; i < length; i++) table(target + 4 + 4 * i + u32(target + 4 + 4 * i, 'an offset'), f.each, depth + 1);
      }
    }
  };
  table(u32(0, 'the root offset'), root, 0);
}

export function verifyFooter(bytes: Uint8Array): void {
  verify(bytes, footer, 'the footer');
}

export function verifyMessage(bytes: Uint8Array): void {
  verify(bytes, message, 'the record batch metadata');
  // header_type (field 1, a byte): anything else would be decoded as another kind of table
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const root = view.getUint32(0, true);
  const vtable = root - view.getInt32(root, true);
  const offset = view.getUint16(vtable, true) >= 8 ? view.getUint16(vtable + 6, true) : 0;
  const type = offset === 0 ? 0 : bytes[root + offset];
  if (type !== RECORD_BATCH) throw new Error(`the block holds a message of type ${type}, not a record batch`);
}
