/**
 * Text tokenization from HuggingFace `tokenizer.json` files (bert-base-uncased WordPiece for ViLT,
 * roberta-base byte-level BPE for METER and RoBERTa) through @huggingface/tokenizers, a pure-JS
 * port maintained by HuggingFace. The library does normalisation, pre-tokenisation, the model and
 * the special-token template; truncation and padding are ours because the library has none, and
 * the originals pad to a fixed length per model.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { DasError, invalidArgument } from '../errors.js';
import { readTextFile } from '../util/text-file.js';

export interface TokenizerConfig {
  /** Longest sequence, special tokens included. Default 40 (ViLT's max_text_len). */
  maxLength?: number;
  /**
   * `max_length` pads every row to maxLength, as the original ViLT and METER collate functions do;
   * `longest` pads to the longest row of the batch (cheaper for GLUE). Default `max_length`.
   */
  padding?: 'max_length' | 'longest';
  /**
   * Emit all-zero token type ids even for sentence pairs. RoBERTa has a single token-type row, so
   * the ids 1 its post-processor reports for the second sentence would be out of range. Default false.
   */
  singleTokenType?: boolean;
  /** Padding token id; default: tokenizer.json's padding.pad_id, else the id of [PAD] or <pad>. */
  padId?: number;
}

/** Per-model defaults (maximum text length, lower-casing). */
export const TEXT_PRESETS = {
  vilt: { maxLength: 40, padding: 'max_length', singleTokenType: false },
  meter: { maxLength: 50, padding: 'max_length', singleTokenType: true },
  roberta: { maxLength: 512, padding: 'longest', singleTokenType: true },
} as const satisfies Record<string, TokenizerConfig>;

/** One encoded sequence before padding. */
export interface EncodedText {
  ids: number[];
  typeIds: number[];
  /** Tokens were dropped to fit maxLength. */
  truncated?: boolean;
}

/** A padded batch; row-major [batchSize, length]. Masks are 1 for real tokens, 0 for padding. */
export interface TextBatch {
  batchSize: number;
  length: number;
  inputIds: Int32Array;
  attentionMask: Uint8Array;
  tokenTypeIds: Int32Array;
}


export class TextTokenizer {
  readonly config: Required<TokenizerConfig>;
  readonly unkId: number | undefined;
  private readonly inner: Tokenizer;
  private readonly specialSingle: number;
  private readonly specialPair: number;

  private constructor(inner: Tokenizer, json: Record<string, unknown>, config: TokenizerConfig, source: string) {
    this.inner = inner;
    const maxLength = config.maxLength ?? 40;
    if (!Number.isInteger(maxLength) || maxLength < 2) throw invalidArgument('tokenizer maxLength', 'an integer >= 2', maxLength);
    const padding = config.padding ?? 'max_length';
    if (padding !== 'max_length' && padding !== 'longest') throw invalidArgument('tokenizer padding', '"max_length" or "longest"', padding);
    const padId = config.padId ?? findPadId(inner, json);
    if (padId === undefined) {
      throw new DasError('DAS_FILE', `${source} defines no padding token ([PAD] or <pad>); pass padId in the TokenizerConfig`);
    }
    this.config = { maxLength, padding, singleTokenType: config.singleTokenType ?? false, padId };
    const post = inner.post_processor;
    this.specialSingle = post ? post([], null, true).tokens.length : 0;
    this.specialPair = post ? post([], [], true).tokens.length : 0;
    const model = json.model as { unk_token?: unknown } | undefined;
    this.unkId = typeof model?.unk_token === 'string' ? inner.token_to_id(model.unk_token) : undefined;
  }

  /** Builds a tokenizer from parsed tokenizer.json (and optional tokenizer_config.json) contents. */
  static fromJson(json: unknown, config: TokenizerConfig = {}, tokenizerConfig: unknown = {}, source = 'tokenizer.json'): TextTokenizer {
    if (json === null || typeof json !== 'object' || !('model' in json)) {
      throw new DasError('DAS_FILE', `${source} is not a tokenizer.json: expected an object with a "model" field`);
    }
    let inner: Tokenizer;
    try {
      inner = new Tokenizer(json, (tokenizerConfig ?? {}) as object);
    } catch (err) {
      throw new DasError('DAS_FILE', `${source} is not a supported tokenizer.json: ${(err as Error).message}`, { cause: err });
    }
    return new TextTokenizer(inner, json as Record<string, unknown>, config, source);
  }

  /**
   * Loads `tokenizer.json` from a file, or from a directory holding tokenizer.json (and, if
   * present, tokenizer_config.json), as checkpoint directories on the HuggingFace hub are laid out.
   */
  static async load(path: string, config: TokenizerConfig = {}): Promise<TextTokenizer> {
    let file = path;
    let configFile: string | undefined;
    const info = await stat(path).catch((err: unknown) => {
      throw new DasError('DAS_FILE', `Tokenizer file ${path} does not exist or cannot be read`, { cause: err });
    });
    if (info.isDirectory()) {
      file = join(path, 'tokenizer.json');
      configFile = join(path, 'tokenizer_config.json');
    }
    const json = await readJson(file, true);
    const extra = configFile ? await readJson(configFile, false) : {};
    return TextTokenizer.fromJson(json, config, extra ?? {}, file);
  }

  get padId(): number {
    return this.config.padId;
  }

  /** Vocabulary size including added tokens. */
  get vocabSize(): number {
    return this.inner.get_vocab(true).size;
  }

  /** Encodes one text (or a sentence pair) with special tokens, truncated to maxLength. */
  encode(text: string, pair?: string | null): EncodedText {
    if (typeof text !== 'string') throw invalidArgument('text', 'a string', text);
    const hasPair = pair !== undefined && pair !== null;
    if (hasPair && typeof pair !== 'string') throw invalidArgument('text pair', 'a string', pair);
    const first = this.inner.tokenize(text, { add_special_tokens: false });
    const second = hasPair ? this.inner.tokenize(pair, { add_special_tokens: false }) : null;
    const budget = this.config.maxLength - (hasPair ? this.specialPair : this.specialSingle);
    if (budget < (hasPair ? 2 : 1)) throw invalidArgument('tokenizer maxLength', `room for text beside ${this.specialPair} special tokens`, this.config.maxLength);
    const truncated = first.length + (second?.length ?? 0) > budget;
    if (second) {
      // longest_first: drop a token from the longer side until both fit (ties: from the second).
      while (first.length + second.length > budget) {
        if (first.length > second.length) first.pop();
        else second.pop();
      }
    } else if (first.length > budget) {
      first.length = budget;
    }
    const post = this.inner.post_processor;
    const processed = post ? post(first, second, true) : { tokens: second ? first.concat(second) : first, token_type_ids: undefined };
    const tokens = processed.tokens;
    const ids = tokens.map((t: string) => this.inner.token_to_id(t) ?? this.unkId ?? this.config.padId);
    const types = processed.token_type_ids ?? new Array<number>(tokens.length).fill(0);
    return { ids, typeIds: this.config.singleTokenType ? types.map(() => 0) : types, truncated };
  }

  /** Encodes and pads a batch. `pairs`, when given, must have one entry per text. */
  encodeBatch(texts: readonly string[], pairs?: readonly string[]): TextBatch {
    if (pairs && pairs.length !== texts.length) throw invalidArgument('text pairs', `${texts.length} entries (one per text)`, pairs);
    const rows = texts.map((t, i) => this.encode(t, pairs ? pairs[i] : undefined));
    return this.pad(rows);
  }

  /** Pads already-encoded rows into one batch. */
  pad(rows: readonly EncodedText[]): TextBatch {
    const length = this.config.padding === 'max_length' ? this.config.maxLength : Math.max(1, ...rows.map((r) => r.ids.length));
    const batchSize = rows.length;
    const inputIds = new Int32Array(batchSize * length).fill(this.config.padId);
    const attentionMask = new Uint8Array(batchSize * length);
    const tokenTypeIds = new Int32Array(batchSize * length);
    rows.forEach((row, b) => {
      inputIds.set(row.ids, b * length);
      tokenTypeIds.set(row.typeIds, b * length);
      attentionMask.fill(1, b * length, b * length + row.ids.length);
    });
    return { batchSize, length, inputIds, attentionMask, tokenTypeIds };
  }

  /** Token strings of an encoding, for debugging and tests. */
  tokens(ids: readonly number[]): string[] {
    return ids.map((id) => this.inner.id_to_token(id) ?? '?');
  }

  decode(ids: readonly number[], skipSpecialTokens = true): string {
    if (ids.length === 0) return '';
    return this.inner.decode([...ids], { skip_special_tokens: skipSpecialTokens });
  }
}

function findPadId(inner: Tokenizer, json: Record<string, unknown>): number | undefined {
  const padding = json.padding as { pad_id?: unknown } | null | undefined;
  if (padding && typeof padding.pad_id === 'number') return padding.pad_id;
  return inner.token_to_id('[PAD]') ?? inner.token_to_id('<pad>');
}

async function readJson(file: string, required: boolean): Promise<unknown> {
  let text: string;
  try {
    text = await readTextFile(file, { what: 'Tokenizer file' });
  } catch (err) {
    if (!required && ((err as Error).cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new DasError('DAS_FILE', `Tokenizer file ${file} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}
