import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configSettings, previewSources, sourceOrder, withRewardWeights } from '../../src/previews/core/previewSource';
import { discover } from './helpers';

const FILES = {
  'rewards.py': [
    'def emoji_reward(completions, **kwargs):\n    return [0.0 for c in completions]',
    'def length_reward(completions, **kwargs):\n    return [0.0 for c in completions]',
    'def qmark_reward(completions, **kwargs):\n    return [0.0 for c in completions]',
    '',
  ].join('\n\n'),
  'run.tiny.yaml':
    'model_name_or_path: m\nreward_funcs:\n  - rewards.length_reward\n  - rewards.emoji_reward\nreward_weights: [2.0, 1.0]\n',
  'train.py':
    'from trl import GRPOTrainer\nfrom rewards import emoji_reward, qmark_reward\n\nGRPOTrainer(model="m", reward_funcs=[qmark_reward, emoji_reward])\n',
};

test('the preview totals one source: its rewards in its order, configs first, then trainer files, then the workspace', async () => {
  const report = await discover(FILES);
  const sources = previewSources(report.rewards);
  assert.deepEqual(
    sources.map((s) => (s.kind === 'workspace' ? 'workspace' : `${s.kind}:${s.file.split('/').pop()}`)),
    ['config:run.tiny.yaml', 'trainer:train.py', 'workspace'],
  );
  const names = (k: number[]) => k.map((i) => report.rewards[i].name);
  assert.deepEqual(names(sourceOrder(report.rewards, sources[0])), ['length_reward', 'emoji_reward'], "the config's order");
  assert.deepEqual(names(sourceOrder(report.rewards, sources[1])), ['qmark_reward', 'emoji_reward'], "the trainer call's order");
  assert.deepEqual(names(sourceOrder(report.rewards, sources[2])).sort(), ['emoji_reward', 'length_reward', 'qmark_reward']);
});

test("a config's reward_weights, scale_rewards (bool before TRL 0.22) and multi_objective_aggregation, and weights written back", () => {
  assert.deepEqual(configSettings(FILES['run.tiny.yaml'], 2), { weights: [2, 1] });
  assert.deepEqual(configSettings(FILES['run.tiny.yaml'], 3), {}, 'weights that do not match the rewards are not used');
  assert.deepEqual(configSettings('scale_rewards: false\nmulti_objective_aggregation: normalize_then_sum\n', 1), {
    scaleRewards: 'none',
    aggregation: 'normalize_then_sum',
  });
  assert.deepEqual(configSettings('scale_rewards: batch\n', 1), { scaleRewards: 'batch' });
  const text = '# tiny run\nmodel_name_or_path: m  # the model\nreward_funcs:\n  - rewards.length_reward\n  - rewards.emoji_reward\n';
  const written = withRewardWeights(text, [0.5, 3]);
  assert.match(written, /^# tiny run\nmodel_name_or_path: m {2}# the model\n/, 'comments kept');
  assert.match(written, /\n {2}- rewards\.emoji_reward\nreward_weights: \[0\.5, 3\]\n$/);
  assert.deepEqual(configSettings(written, 2), { weights: [0.5, 3] });
  assert.equal(
    withRewardWeights(FILES['run.tiny.yaml'], [1, 1]),
    FILES['run.tiny.yaml'].replace('[2.0, 1.0]', '[1, 1]'),
    'replaced in place',
  );
  assert.equal(
    withRewardWeights('reward_weights:\n  - 1.0\n  - 2.0\nbeta: 0.0\n', [3, 4]),
    'reward_weights:\n  [3, 4]\nbeta: 0.0\n',
    'a block list too',
  );
});
