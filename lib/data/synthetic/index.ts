/** Generators of small datasets and tokenizers in the real formats (tests and the demo). */
export { generateSyntheticDataset, SYNTHETIC_ANSWERS, type SyntheticDatasetConfig } from './generate-dataset.js';
export { encodeArrowFile, writeArrowFile, VQA_COLUMNS, NLVR2_COLUMNS, F30K_COLUMNS, type VqaArrowRow, type Nlvr2ArrowRow, type F30kArrowRow, type ArrowWriteOptions, type ColumnSpec } from './arrow-writers.js';
export { encodeTinyImage, tinyImagePixels, type TinyImageOptions } from './tiny-images.js';
export { tinyWordPieceTokenizer, tinyByteLevelBpeTokenizer, writeTinyTokenizer, bytesToUnicode, SYNTHETIC_WORDS } from './tiny-tokenizers.js';
