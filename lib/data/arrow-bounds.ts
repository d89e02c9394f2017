/**
 * Arrow IPC metadata is FlatBuffers, and apache-arrow's decoders trust every vector length they
 * find: one damaged byte can claim billions of field nodes or schema fields, and decoding then
 * allocates until the process dies. Before handing a footer or a record-batch message to the
 * decoder, these checks walk its vectors with the FlatBuffers accessors (which only read) and
 * require each to fit in the bytes it came from.
 */
import { ByteBuffer } from 'flatbuffers';
import type { Field as FbField } from 'apache-arrow/fb/field';
import { Footer as FbFooter } from 'apache-arrow/fb/footer';
import { Message as FbMessage } from 'apache-arrow/fb/message';
import { MessageHeader } from 'apache-arrow/fb/message-header';
import { RecordBatch as FbRecordBatch } from 'apache-arrow/fb/record-batch';

/** Nested types deeper than this are refused (real datasets nest two or three lists). */
const MAX_DEPTH = 32;

function fits(count: number, elementBytes: number, size: number, what: string): void {
  if (!(count >= 0 && count * elementBytes <= size)) throw new Error(`${what} claims ${count} entries, more than its ${size} bytes can hold`);
}

function checkFields(count: number, field: (i: number) => FbField | null, size: number, depth: number, budget: { fields: number }): void {
  if (depth > MAX_DEPTH) throw new Error(`the schema nests types more than ${MAX_DEPTH} deep`);
  fits(count, 4, size, 'a schema field list');
  for (let i = 0; i < count; i++) {
    const f = field(i);
    if (!f) continue;
    // every field takes bytes of its own: more fields than bytes means offsets that loop
    if (--budget.fields < 0) throw new Error('the schema has more fields than its bytes can hold');
    fits(f.customMetadataLength(), 4, size, 'a field metadata list');
    checkFields(f.childrenLength(), (j) => f.children(j), size, depth + 1, budget);
  }
}

/** Throws when the footer's vectors do not fit its bytes. */
export function checkFooterBounds(bytes: Uint8Array): void {
  const footer = FbFooter.getRootAsFooter(new ByteBuffer(bytes));
  fits(footer.recordBatchesLength(), 24, bytes.length, 'the record batch list');
  fits(footer.dictionariesLength(), 24, bytes.length, 'the dictionary list');
  fits(footer.customMetadataLength(), 4, bytes.length, 'the footer metadata');
  const schema = footer.schema();
  if (!schema) throw new Error('the footer holds no schema');
  fits(schema.customMetadataLength(), 4, bytes.length, 'the schema metadata');
  checkFields(schema.fieldsLength(), (i) => schema.fields(i), bytes.length, 0, { fields: Math.floor(bytes.length / 4) });
}

/** Throws when a record-batch message's vectors do not fit its bytes. */
export function checkRecordBatchBounds(bytes: Uint8Array): void {
  const message = FbMessage.getRootAsMessage(new ByteBuffer(bytes));
  fits(message.customMetadataLength(), 4, bytes.length, 'the message metadata');
  if (message.headerType() !== MessageHeader.RecordBatch) return; // the caller refuses other messages
  const batch = message.header(new FbRecordBatch()) as FbRecordBatch | null;
  if (!batch) throw new Error('the message has no record batch header');
  fits(batch.nodesLength(), 16, bytes.length, 'the field node list');
  fits(batch.buffersLength(), 16, bytes.length, 'the buffer list');
  fits(batch.variadicBufferCountsLength(), 8, bytes.length, 'the variadic buffer counts');
}
