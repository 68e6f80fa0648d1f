import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { isRewardFuncsEntry, rewardFuncsSpec } from '../../src/training/core/rewardFuncsEntry';

const CONFIG = [
  'model_name_or_path: models/tiny', // 0
  'reward_funcs:', // 1
  '  - rewards.emoji_reward', // 2
  '  # a comment', // 3
  '  - rew', // 4
  '  ', // 5
  'learning_rate: 1e-5', // 6
  'dataset_mixture:', // 7
  '  - path: data.jsonl', // 8
  '  - ', // 9
].join('\n');

test('an entry of the reward_funcs list, and nothing else, gets reward completions', () => {
  const lines = CONFIG.split('\n');
  assert.deepEqual(
    lines.map((_, i) => isRewardFuncsEntry(lines, i)),
    [false, false, true, false, true, true, false, false, false, false],
  );
});

test('a reward is written as a dotted path from the config folder when it can be imported so, else as file.py::name', () => {
  const dir = path.join('/ws', 'configs');
  assert.equal(rewardFuncsSpec('/ws/configs/rewards.py', 'emoji_reward', dir), 'rewards.emoji_reward');
  assert.equal(rewardFuncsSpec('/ws/configs/pkg/scoring.py', 'f', dir), 'pkg.scoring.f');
  assert.equal(rewardFuncsSpec('/ws/my rewards.py', 'f', dir), '../my rewards.py::f');
  assert.equal(rewardFuncsSpec('/ws/configs/2nd-try.py', 'f', dir), '2nd-try.py::f');
  assert.equal(rewardFuncsSpec('/ws/configs/GRPO.ipynb', 'f', dir), 'GRPO.ipynb::f');
});
