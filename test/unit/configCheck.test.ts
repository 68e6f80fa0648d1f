import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { RUNNER_FIELDS, looksLikeRunConfig } from '../../src/shared/runConfig';
import { checkRunConfig, type TrlSchema } from '../../src/training/core/configCheck';
import { repoRoot } from './helpers';
import { grpoConfigField } from '../../src/shared/trlReleases';
import { untranslated } from '../../src/shared/vocabulary';

const schema = JSON.parse(fs.readFileSync(path.join(repoRoot, 'schemas', 'trl-grpo.json'), 'utf8')) as TrlSchema;

test('the origin config: max_prompt_length is explained, typos get a suggestion, types are checked', () => {
  const text = [
    'model_name_or_path: SakanaAI/TinySwallow-1.5B-Instruct',
    'reward_funcs: [rewards.emoji_reward, rewards.length_reward]',
    'num_generations: 8',
    'max_prompt_length: 256',
    'max_completion_length: 256',
    'temprature: 0.9',
    'learning_rate: fast',
    'use_vllm: false',
    'beta: 0.04',
    'num_train_epochs: 1',
  ].join('\n');
  assert.ok(looksLikeRunConfig(text));
  const problems = checkRunConfig(text, schema);
  assert.deepEqual(
    problems.map((p) => [p.range.start.line, p.message.slice(0, 40)]),
    [
      [3, "'max_prompt_length' was removed from GRP"],
      [5, "'temprature' is not a field of TRL 1.16."],
      [6, "'learning_rate' expects a number (float)"],
    ],
  );
  assert.match(problems[1].message, /Did you mean 'temperature'\?/);
});

test('the fields come from the installed TRL dataclasses, and our own runner fields are allowed', () => {
  assert.equal(schema.fields.num_generations.default, 8);
  assert.equal(schema.fields.lora_r.group, 'model');
  assert.deepEqual(checkRunConfig('model_name_or_path: x\nprompt_column: question\n', schema, new Set(['prompt_column'])), []);
  assert.equal(looksLikeRunConfig('name: not a config\n'), false);
});

test('accelerate launch options that `trl grpo` hands over are fields too (several GPUs, DeepSpeed/FSDP configs)', () => {
  const text =
    'model_name_or_path: x\nreward_funcs: [r.f]\nnum_processes: 4\nconfig_file: deepspeed_zero3.yaml\nmixed_precision: bf16\nmulti_gpu: true\n';
  assert.deepEqual(checkRunConfig(text, schema, RUNNER_FIELDS), []);
  assert.equal(schema.fields.num_processes.group, 'accelerate launch');
  assert.equal(schema.fields.multi_gpu.type, 'bool');
  assert.match(checkRunConfig('model_name_or_path: x\nnum_processes: many\n', schema)[0].message, /'num_processes' expects an integer/);
});

test('GRPOConfig fields are judged for the TRL release in use, from every release’s own GRPOConfig', () => {
  const at = (version: string, text: string) =>
    checkRunConfig(text, schema, RUNNER_FIELDS, untranslated, { version, source: 'pinned in requirements.txt' });
  // The origin's config on the TRL it pinned: valid up to 0.27.2.
  assert.deepEqual(at('0.22.2', 'max_prompt_length: 256\n'), []);
  const [removed] = at('0.28.0', 'max_prompt_length: 256\n');
  assert.match(removed.message, /removed from GRPOConfig in TRL 0\.28\.0 \(TRL 0\.27\.2 was the last release with it\)/);
  assert.match(removed.message, /no longer truncates prompts/);
  assert.match(removed.message, /\[TRL 0\.28\.0: pinned in requirements\.txt\]$/);
  // Added later: an error that names the release that has it, not "did you mean".
  const [later] = at('0.16.0', 'loss_type: dapo\n');
  assert.match(later.message, /'loss_type' is not a GRPOConfig field in this TRL release \(it was added in TRL 0\.17\.0\)/);
  assert.equal(later.replacement, undefined);
  // Types by release: scale_rewards was a bool before 0.22.0.
  assert.match(at('0.21.0', 'scale_rewards: group\n')[0].message, /'scale_rewards' expects true or false/);
  assert.deepEqual(at('0.22.0', 'scale_rewards: group\n'), []);
  // TrainingArguments fields that only some releases redeclare exist in all of them.
  assert.deepEqual(at('0.18.2', 'bf16: true\nlogging_steps: 5\n'), []);
});

test('a release newer than the newest known has what the newest has; an older one has what it had', () => {
  assert.deepEqual(grpoConfigField('beta', '9.0.0'), { state: 'present', type: 'float', default: 0.0 });
  assert.deepEqual(grpoConfigField('beta', '0.18.2'), { state: 'present', type: 'float', default: 0.04 });
  assert.deepEqual(grpoConfigField('max_prompt_length', '0.27.3'), {
    state: 'present',
    type: 'int | None',
    default: null,
  });
  assert.deepEqual(grpoConfigField('max_prompt_length', '1.0.0'), { state: 'removed', lastIn: '0.27.2', removedIn: '0.28.0' });
  assert.equal(grpoConfigField('model_name_or_path', '0.14.0'), undefined);
});
