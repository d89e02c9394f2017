import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TEXT_PRESETS, TextTokenizer } from '../../lib/data/tokenizer.js';
import { tinyByteLevelBpeTokenizer, tinyWordPieceTokenizer, writeTinyTokenizer } from '../../lib/data/synthetic/tiny-tokenizers.js';
import { rejectsDas, tempDir } from './helpers.js';

describe('data/tokenizer', () => {
  const wp = TextTokenizer.fromJson(tinyWordPieceTokenizer(), { maxLength: 12 });
  const bpeJson = tinyByteLevelBpeTokenizer();
  const bpeVocab = (bpeJson.model as { vocab: Record<string, number> }).vocab;

  it('encodes a question with BERT WordPiece: lower-casing, punctuation split, [CLS]/[SEP], padding', () => {
    const batch = wp.encodeBatch(['What color is the CAR?']);
    // [CLS]=2 what=10 color=11 is=12 the=13 car=21 ?=7 [SEP]=3, padded with [PAD]=0 to 12
    assert.deepEqual([...batch.inputIds], [2, 10, 11, 12, 13, 21, 7, 3, 0, 0, 0, 0]);
    assert.deepEqual([...batch.attentionMask], [1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0]);
    assert.deepEqual([...batch.tokenTypeIds], new Array(12).fill(0));
  });

  it('splits unknown words into ##pieces and maps the rest to [UNK]', () => {
    const { ids } = wp.encode('dogs playing zebra');
    assert.deepEqual(ids, [2, 20, 51, 49, 52, 1, 3]);
    assert.deepEqual(wp.tokens(ids), ['[CLS]', 'dog', '##s', 'play', '##ing', '[UNK]', '[SEP]']);
  });

  it('truncates sentence pairs longest-first and marks the second segment with type 1', () => {
    const tok = TextTokenizer.fromJson(tinyWordPieceTokenizer(), { maxLength: 8 });
    const e = tok.encode('the red car', 'two dogs play near a tree');
    assert.deepEqual(tok.tokens(e.ids), ['[CLS]', 'the', 'red', 'car', '[SEP]', 'two', 'dog', '[SEP]']);
    assert.deepEqual(e.typeIds, [0, 0, 0, 0, 0, 1, 1, 1]);
    const single = tok.encode('a big dog near a small cat on the left');
    assert.equal(single.ids.length, 8);
    assert.deepEqual(tok.tokens(single.ids).slice(-2), ['small', '[SEP]']);
  });

  it('encodes RoBERTa byte-level BPE with <s> ... </s> and pads with <pad>=1', () => {
    const tok = TextTokenizer.fromJson(bpeJson, { ...TEXT_PRESETS.meter, maxLength: 6 });
    const batch = tok.encodeBatch(['the cat']);
    assert.deepEqual([...batch.inputIds], [0, bpeVocab['the']!, bpeVocab['Ġcat']!, 2, 1, 1]);
    assert.deepEqual([...batch.attentionMask], [1, 1, 1, 1, 0, 0]);
    assert.equal(tok.padId, 1);
  });

  it('makes every vocabulary word a single token', () => {
    const tok = TextTokenizer.fromJson(bpeJson, { maxLength: 8 });
    for (const w of ['near', 'there', 'sits', 'green', 'contains']) assert.deepEqual(tok.tokens(tok.encode(`a ${w}`).ids), ['<s>', 'a', `Ġ${w}`, '</s>']);
  });

  it('round-trips any text through the 256-byte alphabet', () => {
    const tok = TextTokenizer.fromJson(bpeJson, { maxLength: 64 });
    const text = 'zebra crossing! 42 café';
    assert.equal(tok.decode(tok.encode(text).ids), text);
  });

  it('builds RoBERTa sentence pairs as <s> A </s></s> B </s> with a single token type', () => {
    const tok = TextTokenizer.fromJson(bpeJson, TEXT_PRESETS.roberta);
    const batch = tok.encodeBatch(['the cat', 'a dog'], ['a dog', 'the cat sits']);
    assert.equal(batch.length, 9); // longest: <s> a Ġdog </s> </s> the Ġcat Ġsits </s>
    const row0 = [...batch.inputIds.subarray(0, 9)];
    assert.deepEqual(row0, [0, bpeVocab['the']!, bpeVocab['Ġcat']!, 2, 2, bpeVocab['a']!, bpeVocab['Ġdog']!, 2, 1]);
    assert.ok([...batch.tokenTypeIds].every((t) => t === 0));
  });

  it('loads tokenizer.json from a checkpoint directory and names broken files', async () => {
    const { dir, cleanup } = tempDir('tok');
    try {
      await writeTinyTokenizer(dir, 'wordpiece');
      const tok = await TextTokenizer.load(dir, { maxLength: 40 });
      assert.equal(tok.encodeBatch(['a cat']).length, 40);
      await rejectsDas(() => TextTokenizer.load(join(dir, 'missing.json')), 'DAS_FILE', 'missing.json');
      const broken = join(dir, 'broken.json');
      writeFileSync(broken, '{"model": {');
      await rejectsDas(() => TextTokenizer.load(broken), 'DAS_FILE', 'broken.json', 'not valid JSON');
      writeFileSync(broken, '{"version": "1.0"}');
      await rejectsDas(() => TextTokenizer.load(broken), 'DAS_FILE', 'broken.json', '"model"');
    } finally {
      cleanup();
    }
  });

  it('rejects invalid configuration', () => {
    assert.throws(() => TextTokenizer.fromJson(tinyWordPieceTokenizer(), { maxLength: 1 }), /maxLength/);
    assert.throws(() => TextTokenizer.fromJson(tinyWordPieceTokenizer(), { padding: 'left' as never }), /padding/);
    assert.throws(() => wp.encodeBatch(['a'], ['b', 'c']), /text pairs/);
  });
});
