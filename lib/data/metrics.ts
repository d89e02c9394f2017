/**
 * Task metrics on host arrays: the VQA training-time score (soft target of the arg-max answer),
 * the official 10-annotator VQA accuracy, classification accuracy, and Recall@K for image and
 * text retrieval over a full image x caption score matrix.
 */
import { invalidArgument } from '../errors.js';
import { processDigitArticle, processPunctuation } from './vqa-normalize.js';

/** Arg-max class of each row of a row-major [rows, numClasses] matrix (first maximum on ties). */
export function argmaxRows(logits: ArrayLike<number>, numClasses: number): Int32Array {
  if (!Number.isInteger(numClasses) || numClasses < 1 || logits.length % numClasses !== 0) {
    throw invalidArgument('logits', `a length divisible by ${numClasses} classes`, logits.length);
  }
  const rows = logits.length / numClasses;
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < numClasses; c++) if (logits[r * numClasses + c]! > logits[r * numClasses + best]!) best = c;
    out[r] = best;
  }
  return out;
}

/** Per-row VQA score: the soft target of the arg-max answer (ViLT/METER's training-time metric). */
export function vqaArgmaxScores(logits: ArrayLike<number>, targets: ArrayLike<number>, numAnswers: number): Float64Array {
  if (logits.length !== targets.length) throw invalidArgument('VQA targets', `the logits' length ${logits.length}`, targets.length);
  const best = argmaxRows(logits, numAnswers);
  return Float64Array.from(best, (c, r) => targets[r * numAnswers + c]!);
}

/**
 * The official VQA accuracy of one predicted answer against the 10 annotators' answers: for each
 * annotator, min(1, matches among the other nine / 3), averaged. The prediction is normalised;
 * annotator answers get the punctuation rule only when they disagree, as in the official toolkit.
 */
export function vqaOfficialAccuracy(prediction: string, annotatorAnswers: readonly string[]): number {
  if (annotatorAnswers.length === 0) throw invalidArgument('annotator answers', 'at least one answer', annotatorAnswers);
  const pred = processDigitArticle(processPunctuation(prediction.replace(/[\n\t]/g, ' ').trim()));
  let gts = annotatorAnswers.map((a) => a.replace(/[\n\t]/g, ' ').trim());
  if (new Set(gts).size > 1) gts = gts.map(processPunctuation);
  let sum = 0;
  for (let i = 0; i < gts.length; i++) {
    let matches = 0;
    for (let j = 0; j < gts.length; j++) if (j !== i && gts[j] === pred) matches++;
    sum += Math.min(1, matches / 3);
  }
  return sum / gts.length;
}

/** Fraction of predictions equal to their labels. */
export function accuracy(predictions: ArrayLike<number>, labels: ArrayLike<number>): number {
  if (predictions.length !== labels.length || labels.length === 0) throw invalidArgument('labels', `${predictions.length} labels (one per prediction, at least one)`, labels.length);
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if (predictions[i] === labels[i]) correct++;
  return correct / labels.length;
}

export interface RetrievalRecall {
  /** Image retrieval (text query -> images). */
  ir: { r1: number; r5: number; r10: number };
  /** Text retrieval (image query -> captions; a hit is any of the image's captions). */
  tr: { r1: number; r5: number; r10: number };
}

/**
 * Recall@1/5/10 from a row-major [numImages, numTexts] score matrix and each text's image.
 * Ranks break ties by index (an earlier item ranks first), so results are deterministic.
 */
export function retrievalRecall(scores: ArrayLike<number>, numImages: number, textToImage: ArrayLike<number>): RetrievalRecall {
  const numTexts = textToImage.length;
  if (scores.length !== numImages * numTexts) throw invalidArgument('retrieval scores', `${numImages} x ${numTexts} = ${numImages * numTexts} values`, scores.length);
  const s = (i: number, t: number) => scores[i * numTexts + t]!;
  const ranks = (n: number, score: (k: number) => number, target: number) => {
    let rank = 0;
    const v = score(target);
    for (let k = 0; k < n; k++) if (score(k) > v || (score(k) === v && k < target)) rank++;
    return rank;
  };
  const irRanks = Array.from({ length: numTexts }, (_, t) => ranks(numImages, (i) => s(i, t), textToImage[t]!));
  const trRanks = Array.from({ length: numImages }, (_, i) => {
    let best = Infinity;
    for (let t = 0; t < numTexts; t++) if (textToImage[t] === i) best = Math.min(best, ranks(numTexts, (k) => s(i, k), t));
    return best;
  });
  const recall = (r: number[], k: number) => r.filter((x) => x < k).length / Math.max(1, r.length);
  return {
    ir: { r1: recall(irRanks, 1), r5: recall(irRanks, 5), r10: recall(irRanks, 10) },
    tr: { r1: recall(trRanks, 1), r5: recall(trRanks, 5), r10: recall(trRanks, 10) },
  };
}
