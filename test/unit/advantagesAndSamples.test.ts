import assert from 'node:assert/strict';
import { test } from 'node:test';
import { computeAdvantages } from '../../src/scoring/advantages';
import { parseSampleSet } from '../../src/scoring/samples';

test('sample sets: adjacent prompts group, a completions line is a group, bad lines are reported', () => {
  const set = parseSampleSet(
    [
      '{"prompt": "富士山の高さは？", "completion": "3776m🗻", "answer": "3776"}',
      '{"prompt": "富士山の高さは？", "completion": "高い"}',
      '',
      'not json',
      '{"prompt": [{"role": "user", "content": "こんにちは"}], "completions": [[{"role": "assistant", "content": "やあ"}], [{"role": "assistant", "content": "どうも"}]]}',
      '{"prompt": "富士山の高さは？", "completion": "again"}',
      '{"completion": "no prompt"}',
      '[1, 2]',
    ].join('\n'),
  );
  assert.deepEqual(
    set.groups.map((g) => g.size),
    [2, 2, 1],
  );
  assert.deepEqual(
    set.samples.map((s) => [s.line, s.group]),
    [
      [1, 0],
      [2, 0],
      [5, 1],
      [5, 1],
      [6, 2],
    ],
  );
  assert.deepEqual(set.samples[0].columns, { answer: '3776' });
  assert.deepEqual(
    set.problems.map((p) => p.line),
    [4, 7, 8],
  );
  assert.match(set.problems[0].message, /not valid JSON/);
});

test('sample sets: a dry run’s completion_ids are the sample’s own ids, not a column; bad ids are reported', () => {
  const set = parseSampleSet(
    [
      '{"prompt": "p", "completion": "a", "answer": "x", "completion_ids": [64, 2]}',
      '{"prompt": "p", "completion": "b", "completion_ids": []}',
      '{"prompt": "p", "completion": "c"}',
      '{"prompt": "p", "completion": "d", "completion_ids": [1.5]}',
      '{"prompt": "p", "completion": "e", "completion_ids": "64 2"}',
    ].join('\n'),
  );
  assert.deepEqual(
    set.samples.map((s) => [s.completion, s.completionIds, s.columns]),
    [
      ['a', [64, 2], { answer: 'x' }],
      ['b', [], {}],
      ['c', undefined, {}],
    ],
  );
  assert.deepEqual(
    set.problems.map((p) => [p.line, p.message]),
    [
      [4, '"completion_ids" must be a list of token ids (integers ≥ 0)'],
      [5, '"completion_ids" must be a list of token ids (integers ≥ 0)'],
    ],
  );
});

test("advantages: a worked example of TRL's default (sum, group scaling)", () => {
  // Two functions, weights 1 and 0.5, two groups of two; row 3 is unscorable (all None).
  const result = computeAdvantages(
    [
      [1, 2],
      [3, 0],
      [2, null],
      [null, null],
    ],
    [2, 2],
    { weights: [1, 0.5], scaleRewards: 'group', aggregation: 'sum_then_normalize' },
  );
  assert.deepEqual(result.totals, [2, 3, 2, null]);
  const std = Math.SQRT1_2; // Bessel std of [2, 3]
  assert.ok(Math.abs(result.advantages[0] - -0.5 / (std + 1e-4)) < 1e-12);
  assert.ok(Math.abs(result.advantages[1] - 0.5 / (std + 1e-4)) < 1e-12);
  assert.deepEqual(result.advantages.slice(2), [0, 0], 'a single scorable row has NaN std: advantage 0');
  assert.equal(result.groups[1].std, null);
});

test('advantages: equal rewards in a group mean no learning signal', () => {
  const result = computeAdvantages([[1], [1], [0], [2]], [2, 2], {
    weights: [1],
    scaleRewards: 'group',
    aggregation: 'sum_then_normalize',
  });
  assert.deepEqual(
    result.groups.map((g) => g.zeroStd),
    [true, false],
  );
  assert.deepEqual(result.advantages.slice(0, 2), [0, 0]);
});
