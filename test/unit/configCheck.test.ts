import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { RUNNER_FIELDS, looksLikeRunConfig } from '../../src/shared/runConfig';
import { checkRunConfig, type TrlSchema } from '../../src/training/core/configCheck';
import { repoRoot } from './helpers';

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
