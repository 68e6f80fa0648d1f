/**
 * GRPO advantages exactly as TRL's GRPOTrainer computes them (TRL 1.x,
 * `_generate_and_score_completions`), generalized to groups of any size.
 *
 * `rewards[i][k]` is reward function k on completion i, `null` where it returned None.
 */

export type ScaleRewards = 'group' | 'batch' | 'none';
export type Aggregation = 'sum_then_normalize' | 'normalize_then_sum';

export interface AdvantageOptions {
  weights: number[];
  scaleRewards: ScaleRewards;
  aggregation: Aggregation;
}

export interface GroupStats {
  /** nanmean of the group's totals (null when none is scorable). */
  mean: number | null;
  /** Bessel-corrected nanstd of the group's totals (null with fewer than two values). */
  std: number | null;
  /** TRL's frac_reward_zero_std counts these: the group gives no learning signal. */
  zeroStd: boolean;
}

export interface AdvantageResult {
  /** Weighted sum of the rewards (null where every function returned None). */
  totals: (number | null)[];
  advantages: number[];
  groups: GroupStats[];
}

/** `count` rows in groups of `size` in a row (the last one shorter), as TRL's sampler repeats each prompt. */
export function consecutiveGroups(count: number, size: number): { index: number; start: number; size: number }[] {
  return Array.from({ length: Math.ceil(count / size) }, (_, index) => ({
    index,
    start: index * size,
    size: Math.min(size, count - index * size),
  }));
}

const EPSILON = 1e-4;

export function nanmean(values: number[]): number {
  const present = values.filter((v) => !Number.isNaN(v));
  return present.length === 0 ? NaN : present.reduce((a, b) => a + b, 0) / present.length;
}

/** torch-style nanstd with Bessel's correction: NaN with fewer than two values. */
export function nanstd(values: number[]): number {
  const present = values.filter((v) => !Number.isNaN(v));
  if (present.length < 2) return NaN;
  const mean = present.reduce((a, b) => a + b, 0) / present.length;
  const variance = present.reduce((a, b) => a + (b - mean) ** 2, 0) / present.length;
  return Math.sqrt((variance * present.length) / (present.length - 1));
}

/** torch.isclose(std, 0) with its default tolerances (atol 1e-8); NaN is not close. */
function isCloseToZero(value: number): boolean {
  return Math.abs(value) <= 1e-8;
}

const toNaN = (v: number | null) => (v === null ? NaN : v);
const fromNaN = (v: number) => (Number.isNaN(v) ? null : v);

/** nansum over functions of the weighted values; NaN when the row is unscorable. */
function weightedRowSums(matrix: number[][], weights: number[]): number[] {
  return matrix.map((row) => {
    if (row.every((v) => Number.isNaN(v))) return NaN;
    return row.reduce((sum, v, k) => (Number.isNaN(v) ? sum : sum + v * weights[k]), 0);
  });
}

/** TRL's total of one completion: nansum of the weighted values; null when every function returned None. */
export function weightedTotal(values: (number | null)[], weights?: number[]): number | null {
  return fromNaN(
    weightedRowSums(
      [values.map(toNaN)],
      values.map((_, k) => weights?.[k] ?? 1),
    )[0],
  );
}

export function computeAdvantages(rewards: (number | null)[][], groupSizes: number[], options: AdvantageOptions): AdvantageResult {
  const matrix = rewards.map((row) => row.map(toNaN));
  const groupRanges = groupSizes.reduce<[number, number][]>((ranges, size) => {
    const start = ranges.length ? ranges[ranges.length - 1][1] : 0;
    ranges.push([start, start + size]);
    return ranges;
  }, []);
  const totals = weightedRowSums(matrix, options.weights);
  const groupStats = groupRanges.map(([a, b]) => {
    const slice = totals.slice(a, b);
    const std = slice.length > 1 ? nanstd(slice) : 0;
    return { mean: nanmean(slice), std };
  });

  let advantages: number[];
  if (options.aggregation === 'sum_then_normalize') {
    const batchStd = totals.length > 1 ? nanstd(totals) : 0;
    advantages = [];
    groupRanges.forEach(([a, b], g) => {
      for (let i = a; i < b; i++) {
        const std = options.scaleRewards === 'batch' ? batchStd : groupStats[g].std;
        const centered = totals[i] - groupStats[g].mean;
        advantages.push(options.scaleRewards === 'none' ? centered : centered / (std + EPSILON));
      }
    });
  } else {
    const normalized = matrix.map((row) => [...row]);
    const functionCount = matrix[0]?.length ?? 0;
    for (const [a, b] of groupRanges) {
      for (let k = 0; k < functionCount; k++) {
        const column = matrix.slice(a, b).map((row) => row[k]);
        const mean = nanmean(column);
        const std = column.length > 1 ? nanstd(column) : 0;
        for (let i = a; i < b; i++) normalized[i][k] = (matrix[i][k] - mean) / (std + EPSILON);
      }
    }
    const combined = normalized.map((row, i) => {
      if (matrix[i].every((v) => Number.isNaN(v))) return NaN;
      return row.reduce((sum, v, k) => (Number.isNaN(v) ? sum : sum + v * options.weights[k]), 0);
    });
    const std = combined.length > 1 ? nanstd(combined) : 0;
    const mean = nanmean(combined);
    advantages = combined.map((v) => (v - mean) / (std + EPSILON));
  }

  return {
    totals: totals.map(fromNaN),
    advantages: advantages.map((v) => (Number.isNaN(v) ? 0 : v)),
    // Equal totals within a group: every completion gets the same advantage, so the group
    // teaches nothing (under normalize_then_sum they may all share a non-zero one).
    groups: groupStats.map(({ mean, std }) => ({ mean: fromNaN(mean), std: fromNaN(std), zeroStd: isCloseToZero(std) })),
  };
}
