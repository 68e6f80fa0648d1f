import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generationSettings, grpoSampling, samplingFieldsSet } from '../../src/shared/runConfig';

test('what a config leaves out is sampled with the GRPOConfig defaults of the TRL release in use', () => {
  // From each release's own grpo_config.py (schemas/trl-grpo-history.json).
  assert.deepEqual(grpoSampling({}, '1.16.0'), {
    numGenerations: 8,
    maxCompletionLength: 512,
    seed: 42,
    temperature: 1,
    topP: 1,
    topK: 0,
    repetitionPenalty: 1,
  });
  assert.equal(grpoSampling({}, '0.22.2').maxCompletionLength, 256, 'Unsloth’s pin: 256 tokens');
  assert.equal(grpoSampling({}, '0.22.2').topK, 0, 'top_k=None: no top-k filtering');
  assert.deepEqual(generationSettings({}, '0.16.0'), { temperature: 0.9, topP: 1, topK: 50, minP: undefined, repetitionPenalty: 1 });
  assert.equal(grpoSampling({}, '0.14.0').temperature, 0.9);
  assert.equal(grpoSampling({}, '0.14.0').topK, 50, 'before 0.16 GRPOConfig had no top_k: transformers’ GenerationConfig default applied');
  assert.equal(grpoSampling({}, '9.0.0').maxCompletionLength, 512, 'a release newer than the newest known: the newest’s defaults');
});

test('the fields a config sets win, and only those count as set', () => {
  const config = { temperature: 0.7, max_completion_length: 48, top_k: 20, num_generations: 4, seed: 3, min_p: 0.05, learning_rate: 1e-6 };
  assert.deepEqual(samplingFieldsSet(config), {
    temperature: 0.7,
    maxCompletionLength: 48,
    topK: 20,
    numGenerations: 4,
    seed: 3,
    minP: 0.05,
  });
  assert.deepEqual(grpoSampling(config, '1.16.0'), {
    numGenerations: 4,
    maxCompletionLength: 48,
    seed: 3,
    temperature: 0.7,
    topP: 1,
    topK: 20,
    minP: 0.05,
    repetitionPenalty: 1,
  });
  assert.deepEqual(samplingFieldsSet({ temperature: '0.7', top_p: null }), {}, 'not a number: not set');
});
