/**
 * The search's random numbers: xoshiro128** (Blackman and Vigna, 2018), seeded through splitmix64.
 *
 * Why this generator: its whole state is four 32-bit words, so it saves to JSON exactly and a
 * resumed run continues the very same stream; it is fast with plain 32-bit integer arithmetic in
 * JavaScript (Math.imul); and its output passes the usual statistical batteries, which is more
 * than the search needs. `Math.random()` cannot be seeded or saved, so it is never used here.
 *
 * Seeding: the seed (a non-negative safe integer) is the starting value of splitmix64, whose first
 * two 64-bit outputs become the four state words (low word first), as the generator's authors
 * recommend. Doubles in [0, 1) take 53 random bits from two 32-bit outputs.
 */
import { invalidArgument } from '../errors.js';

/** The saved form of a generator: plain JSON, restored bit for bit. */
export interface PrngState {
  readonly algorithm: 'xoshiro128**';
  /** The four state words, each an integer in [0, 2^32); never all zero. */
  readonly words: readonly [number, number, number, number];
}

const TWO_POW_32 = 0x1_0000_0000;
const TWO_POW_53 = 2 ** 53;
const MASK_64 = (1n << 64n) - 1n;

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** splitmix64 step: advances `state` and returns the next 64-bit output. */
function splitmix64(state: { x: bigint }): bigint {
  state.x = (state.x + 0x9e3779b97f4a7c15n) & MASK_64;
  let z = state.x;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK_64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK_64;
  return z ^ (z >> 31n);
}

export class Prng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** A generator seeded from a non-negative safe integer; equal seeds give equal streams. */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw invalidArgument('seed', 'a non-negative safe integer', seed);
    }
    const sm = { x: BigInt(seed) };
    const a = splitmix64(sm);
    const b = splitmix64(sm);
    this.s0 = Number(a & 0xffffffffn);
    this.s1 = Number(a >> 32n);
    this.s2 = Number(b & 0xffffffffn);
    this.s3 = Number(b >> 32n);
    // The all-zero state is the generator's one fixed point; splitmix64 practically never yields
    // it, but a constant keeps the guarantee unconditional.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 0x9e3779b9;
  }

  /** A generator that continues exactly where the saved one stopped. */
  static fromState(state: PrngState): Prng {
    const prng = new Prng(0);
    prng.restore(state);
    return prng;
  }

  /** The next raw 32-bit output, an integer in [0, 2^32). */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** A double uniform on [0, 1) with 53 random bits (every representable multiple of 2^-53). */
  nextDouble(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 2 ** 26 + lo) / TWO_POW_53;
  }

  /**
   * An integer uniform on [0, n), for 1 <= n <= 2^32. Rejection sampling removes the bias that a
   * plain modulo would have when n does not divide 2^32.
   */
  nextInt(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_POW_32) {
      throw invalidArgument('the range of nextInt', 'an integer in 1..2^32', n);
    }
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** The full state as plain JSON; `restore` or `Prng.fromState` continue from it exactly. */
  state(): PrngState {
    return { algorithm: 'xoshiro128**', words: [this.s0, this.s1, this.s2, this.s3] };
  }

  restore(state: PrngState): void {
    validatePrngState(state);
    [this.s0, this.s1, this.s2, this.s3] = state.words;
  }
}

/** Checks a saved generator state (for example read back from a checkpoint file). */
export function validatePrngState(state: unknown, what = 'the PRNG state'): asserts state is PrngState {
  if (typeof state !== 'object' || state === null) throw invalidArgument(what, 'an object', state);
  const { algorithm, words } = state as { algorithm?: unknown; words?: unknown };
  if (algorithm !== 'xoshiro128**') throw invalidArgument(`${what}.algorithm`, '"xoshiro128**"', algorithm);
  if (!Array.isArray(words) || words.length !== 4) {
    throw invalidArgument(`${what}.words`, 'an array of 4 integers in [0, 2^32)', words);
  }
  for (const [i, w] of words.entries()) {
    if (!Number.isInteger(w) || w < 0 || w >= TWO_POW_32) {
      throw invalidArgument(`${what}.words[${i}]`, 'an integer in [0, 2^32)', w);
    }
  }
  if (words.every((w) => w === 0)) throw invalidArgument(`${what}.words`, 'not all zero', 'all zeros');
}
