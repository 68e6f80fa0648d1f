import assert from 'node:assert/strict';
import { test } from 'node:test';
import { computeAdvantages, type Aggregation } from '../../src/scoring/advantages';
import { advantageDriversOf, findingsOf, signalOf, type DryRunStep } from '../../src/scoring/signal';
import { untranslated } from '../../src/shared/vocabulary';

/** A step as the dry-run script writes it, its advantages computed as TRL computes them. */
function step(
  rewards: Record<string, (number | null)[]>,
  options: { g: number; weights?: number[]; aggregation?: Aggregation },
): DryRunStep {
  const names = Object.keys(rewards);
  const n = rewards[names[0]].length;
  const weights = options.weights ?? names.map(() => 1);
  const aggregation = options.aggregation ?? 'sum_then_normalize';
  const matrix = Array.from({ length: n }, (_, i) => names.map((name) => rewards[name][i]));
  const sizes = Array.from({ length: n / options.g }, () => options.g);
  const { advantages, totals } = computeAdvantages(matrix, sizes, { weights, scaleRewards: 'group', aggregation });
  return {
    model: 'tiny',
    num_generations: options.g,
    max_completion_length: 16,
    reward_names: names,
    reward_weights: weights,
    multi_objective_aggregation: aggregation,
    rows: matrix.map((row, i) => ({
      prompt: `p${Math.floor(i / options.g)}`,
      completion: `c${i}`,
      rewards: Object.fromEntries(names.map((name, k) => [name, row[k]])),
      total: totals[i],
      advantage: advantages[i],
      length: 8,
      truncated: false,
    })),
    metrics: {},
  };
}

const close = (actual: number | null, expected: number, message?: string) =>
  assert.ok(actual !== null && Math.abs(actual - expected) < 1e-6, `${message ?? ''} ${actual} ≉ ${expected}`);

test('advantage drivers: a reward twice as wide drives two thirds of the advantage, and the pair moves as one', () => {
  const s = step({ small: [0, 1, 2, 3, 3, 1, 0, 2], wide: [0, 2, 4, 6, 6, 2, 0, 4] }, { g: 4 });
  const drivers = advantageDriversOf(s);
  close(drivers.share.small, 1 / 3);
  close(drivers.share.wide, 2 / 3);
  close(drivers.correlation.small, 1, 'each is the whole advantage, up to scale:');
  close(drivers.correlation.wide, 1);
  assert.equal(drivers.pairs.length, 1);
  close(drivers.pairs[0].r, 1);
  const codes = findingsOf(s, signalOf(s), drivers, {}, untranslated).map((f) => f.code);
  assert.ok(codes.includes('DRY006'), codes.join());
  assert.ok(!codes.includes('DRY005'), 'two thirds is not a swamp');
});

test('advantage drivers: normalize_then_sum weighs each reward by its weight, not its width', () => {
  const rewards = { small: [0, 1, 2, 3], wide: [0, 10, 25, 30] };
  const summed = advantageDriversOf(step(rewards, { g: 4 }));
  assert.ok(summed.share.wide > 0.9, `the wide reward swamps the sum: ${summed.share.wide}`);
  const normalized = advantageDriversOf(step(rewards, { g: 4, aggregation: 'normalize_then_sum' }));
  assert.ok(Math.abs(normalized.share.small - normalized.share.wide) < 0.05, JSON.stringify(normalized.share));
  const weighted = advantageDriversOf(step(rewards, { g: 4, aggregation: 'normalize_then_sum', weights: [3, 1] }));
  assert.ok(weighted.share.small > 0.7, JSON.stringify(weighted.share));
});

test('advantage drivers: opposing rewards are flagged, a reward without variance drives nothing', () => {
  const s = step({ format: [0, 1, 2, 4, 1, 2, 3, 4], brevity: [3, 2, 1, 0, 4, 3, 1, 0], dead: [1, 1, 1, 1, 1, 1, 1, 1] }, { g: 4 });
  const drivers = advantageDriversOf(s);
  assert.equal(drivers.share.dead, 0);
  assert.equal(drivers.correlation.dead, null);
  close(drivers.share.format + drivers.share.brevity, 1);
  const pair = drivers.pairs.find((p) => p.a === 'format' && p.b === 'brevity')!;
  assert.ok(pair.r! < -0.9, String(pair.r));
  assert.equal(drivers.pairs.find((p) => p.b === 'dead')!.r, null);
  const findings = findingsOf(s, signalOf(s), drivers, {}, untranslated);
  const opposing = findings.find((f) => f.code === 'DRY007');
  assert.match(opposing?.message ?? '', /^format and brevity pull against each other \(within-group correlation -0\.9\d\)/);
  assert.ok(
    findings.some((f) => f.code === 'DRY003' && f.message.startsWith('dead is 1 on all 8 completions')),
    JSON.stringify(findings),
  );
});

test('advantage drivers: None counts as 0 as in TRL’s nansum, and an all-None reward has no correlation', () => {
  const s = step({ answer: [1, 0, null, 1], none: [null, null, null, null] }, { g: 4 });
  const drivers = advantageDriversOf(s);
  close(drivers.share.answer, 1);
  assert.equal(drivers.correlation.none, null);
  const signal = signalOf(s);
  assert.equal(signal.per_function.none.frac_none, 1);
  assert.equal(signal.per_function.answer.frac_none, 0.25);
  assert.equal(signal.per_function.answer.min, 0);
});
