/**
 * Tiny but complete tokenizer.json files with the same components as the real ones: BERT
 * WordPiece (bert-base-uncased: BertNormalizer, BertPreTokenizer, WordPiece, [CLS]/[SEP] template)
 * and RoBERTa byte-level BPE (ByteLevel pre-tokenizer over the full 256-byte alphabet, ranked
 * merges, <s>/</s> processing). Their vocabularies are small enough to check outputs by hand.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Words the synthetic datasets draw their questions, captions and sentences from. */
export const SYNTHETIC_WORDS = [
  'what', 'color', 'is', 'the', 'a', 'how', 'many', 'are', 'there', 'cat', 'dog', 'car', 'tree', 'red', 'blue', 'green',
  'one', 'two', 'three', 'yes', 'no', 'left', 'right', 'image', 'contains', 'on', 'sits', 'near', 'big', 'small',
  'good', 'bad', 'movie', 'film', 'was', 'not', 'this', 'it', 'person', 'play', 'run',
] as const;

function addedToken(content: string, id: number): Record<string, unknown> {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
}

/**
 * bert-base-uncased layout: [PAD]=0, [UNK]=1, [CLS]=2, [SEP]=3, [MASK]=4, then punctuation,
 * SYNTHETIC_WORDS, and the continuation pieces ##s and ##ing.
 */
export function tinyWordPieceTokenizer(): Record<string, unknown> {
  const specials = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
  const tokens = [...specials, '.', ',', '?', '!', "'", ...SYNTHETIC_WORDS, '##s', '##ing'];
  const vocab = Object.fromEntries(tokens.map((t, i) => [t, i]));
  const cls = { SpecialToken: { id: '[CLS]', type_id: 0 } };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map((s, i) => addedToken(s, i)),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [cls, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [cls, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } }],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  };
}

/** GPT-2's reversible byte -> printable character map used by byte-level BPE. */
export function bytesToUnicode(): string[] {
  const keep = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  const out = new Array<string>(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) out[b] = String.fromCodePoint(keep(b) ? b : 256 + extra++);
  return out;
}

/**
 * roberta-base layout: <s>=0, <pad>=1, </s>=2, <unk>=3, then the 256 byte symbols (ids 4..259),
 * then one token per merge. Merges make every SYNTHETIC_WORD one token, with and without the
 * leading-space marker Ġ, so "the cat" encodes to exactly ["the", "Ġcat"].
 */
export function tinyByteLevelBpeTokenizer(): Record<string, unknown> {
  const specials = ['<s>', '<pad>', '</s>', '<unk>'];
  const vocab = new Map<string, number>();
  for (const s of specials) vocab.set(s, vocab.size);
  for (const ch of bytesToUnicode()) vocab.set(ch, vocab.size);
  const merges: string[] = [];
  const ranks = new Map<string, number>();
  for (const word of SYNTHETIC_WORDS) {
    for (const form of [word, `Ġ${word}`]) {
      // Join whatever the merges so far make of the word, left to right. Merges added later rank
      // below every merge an earlier word used, so they can never change that word's tokens.
      const pieces = applyMerges([...form], ranks);
      let acc = pieces[0]!;
      for (const piece of pieces.slice(1)) {
        const merged = acc + piece;
        if (!vocab.has(merged)) vocab.set(merged, vocab.size);
        ranks.set(`${acc} ${piece}`, merges.length);
        merges.push(`${acc} ${piece}`);
        acc = merged;
      }
    }
  }
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map((s, i) => addedToken(s, i)),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'RobertaProcessing', sep: ['</s>', 2], cls: ['<s>', 0], trim_offsets: true, add_prefix_space: false },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false,
      vocab: Object.fromEntries(vocab), merges,
    },
  };
}

/** BPE on one word: repeatedly join the adjacent pair of lowest merge rank. */
function applyMerges(symbols: string[], ranks: Map<string, number>): string[] {
  const out = [...symbols];
  for (;;) {
    let best = -1;
    let bestRank = Infinity;
    for (let i = 0; i + 1 < out.length; i++) {
      const r = ranks.get(`${out[i]} ${out[i + 1]}`);
      if (r !== undefined && r < bestRank) {
        bestRank = r;
        best = i;
      }
    }
    if (best < 0) return out;
    out.splice(best, 2, out[best]! + out[best + 1]!);
  }
}

/** Writes `<dir>/tokenizer.json` of the given kind and returns its path. */
export async function writeTinyTokenizer(dir: string, kind: 'wordpiece' | 'bpe'): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'tokenizer.json');
  await writeFile(file, JSON.stringify(kind === 'wordpiece' ? tinyWordPieceTokenizer() : tinyByteLevelBpeTokenizer()));
  return file;
}
