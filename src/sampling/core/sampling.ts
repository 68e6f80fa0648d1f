/** How the next token is chosen, with GRPOConfig's defaults: temperature 1, top_p 1, top_k 0 (off). */
export interface SamplingOptions {
  /** 0 means greedy decoding (argmax), as `do_sample=False`. */
  temperature: number;
  topP: number;
  /** 0 turns top-k filtering off. */
  topK: number;
}

/**
 * A seeded pseudo-random generator (SplitMix64 seeding into xoshiro128**): the same seed gives the
 * same completions on every machine, which `Math.random` cannot.
 */
export class SeededRandom {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    let x = BigInt.asUintN(64, BigInt(Math.trunc(seed)));
    const next = (): number => {
      x = BigInt.asUintN(64, x + 0x9e3779b97f4a7c15n);
      let z = x;
      z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
      z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d049bb133111ebn);
      return Number(BigInt.asUintN(32, z ^ (z >> 31n)));
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
  }

  /** A float in [0, 1). */
  next(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result / 4294967296;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** The index of the largest logit; the first one on ties, as `torch.argmax`. */
export function argmax(logits: Float32Array, offset: number, size: number): number {
  let best = 0;
  let bestValue = -Infinity;
  for (let i = 0; i < size; i++) {
    const value = logits[offset + i];
    if (value > bestValue) {
      bestValue = value;
      best = i;
    }
  }
  return best;
}

/**
 * Picks the next token from one row of logits as transformers' sampling does: temperature, then
 * top-k, then top-p (the smallest set of most likely tokens whose probability reaches `topP`), then
 * a draw from what is left.
 */
export function pickToken(logits: Float32Array, offset: number, size: number, options: SamplingOptions, random: SeededRandom): number {
  if (!(options.temperature > 0)) return argmax(logits, offset, size);
  const maxLogit = logits[offset + argmax(logits, offset, size)];
  const probs = new Float64Array(size);
  let sum = 0;
  for (let i = 0; i < size; i++) {
    const p = Math.exp((logits[offset + i] - maxLogit) / options.temperature);
    probs[i] = p;
    sum += p;
  }
  for (let i = 0; i < size; i++) probs[i] /= sum;
  const filtered = (options.topK > 0 && options.topK < size) || options.topP < 1;
  if (!filtered) return drawFrom(probs, random);
  const kept = nucleus(probs, options.topK > 0 ? Math.min(options.topK, size) : size, options.topP);
  let mass = 0;
  for (const i of kept) mass += probs[i];
  let draw = random.next() * mass;
  for (const i of kept) {
    draw -= probs[i];
    if (draw < 0) return i;
  }
  return kept[kept.length - 1];
}

/** A draw from the whole distribution (GRPOConfig's default: no top-k, top_p 1). */
function drawFrom(probs: Float64Array, random: SeededRandom): number {
  let remaining = random.next();
  for (let i = 0; i < probs.length; i++) {
    remaining -= probs[i];
    if (remaining < 0) return i;
  }
  return probs.length - 1;
}

/**
 * The token ids that survive top-k and then top-p (over the top-k renormalised, as transformers'
 * warpers chain), most likely first. Only tokens above a probability threshold are sorted; the
 * threshold drops until they are known to contain the answer, so the result equals sorting the
 * whole vocabulary.
 */
function nucleus(probs: Float64Array, topK: number, topP: number): number[] {
  const topKOn = topK < probs.length;
  for (let threshold = 1e-4; ; threshold = threshold > 1e-12 ? threshold / 100 : 0) {
    const candidates: number[] = [];
    for (let i = 0; i < probs.length; i++) if (probs[i] >= threshold) candidates.push(i);
    candidates.sort((a, b) => probs[b] - probs[a] || a - b);
    const top = candidates.slice(0, topK);
    // Every token left out is less likely than every candidate: the candidates hold the true top-k.
    const complete = candidates.length >= topK || threshold === 0;
    if (topP >= 1) {
      if (complete) return top;
      continue;
    }
    if (topKOn && !complete) continue;
    const target = topP * (topKOn ? top.reduce((sum, i) => sum + probs[i], 0) : 1);
    const kept: number[] = [];
    let cumulative = 0;
    for (const i of top) {
      kept.push(i);
      cumulative += probs[i];
      if (cumulative >= target) return kept;
    }
    if (complete) return kept;
  }
}
