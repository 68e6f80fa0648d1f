// "GRPO: Sample Completions" as a user runs it: an ONNX model in the workspace, the run config's
// questions as prompts (and its num_generations: 8 over the setting's 4); the new samples file opens, and the Reward Preview scores its groups with
// the example's reward functions and an ONNX reward model (grpoStudio.preview.rewardModels).
import { cpSync } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { ensurePythonEnv } from '../../scripts/setup-python.mjs';
import { REPO_ROOT } from './harness.mjs';

const python = await ensurePythonEnv();
execFileSync(python, [path.join(REPO_ROOT, 'test', 'python', 'onnx_fixtures.py')], { stdio: 'ignore' });
const generated = path.join(REPO_ROOT, 'test', 'fixtures', 'generated');

export const options = {
  workspace: 'examples/emoji-length',
  settings: {
    'grpoStudio.pythonPath': python,
    'grpoStudio.preview.rewardModels': ['onnx-models/tiny-rm-onnx'],
    // run.tiny.yaml's own num_generations (8), temperature and max_completion_length apply.
    'grpoStudio.sampling.numGenerations': 4,
    'grpoStudio.sampling.maxPrompts': 3,
  },
  timeoutMs: 180000,
};

export async function run({ page, assert, workspace, runCommand, screenshot, findFrame, waitFor, waitForNotification }) {
  for (const name of ['tiny-lm-onnx', 'tiny-rm-onnx'])
    cpSync(path.join(generated, name), path.join(workspace, 'onnx-models', name), { recursive: true });

  // The extension is up once its status bar item shows the reward count.
  await page
    .locator('.statusbar-item', { hasText: /rewards/ })
    .first()
    .waitFor({ state: 'visible', timeout: 60000 });
  await runCommand('GRPO: Sample Completions (ONNX model)');
  // The copy made above (the example's own models/ may hold others, e.g. after `npm run demo`).
  const model = page.locator('.quick-input-list .monaco-list-row', { hasText: /onnx-models\/tiny-lm-onnx$/ }).first();
  await model.waitFor({ state: 'visible', timeout: 30000 });
  assert.equal(
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'tiny-rm-onnx' }).count(),
    0,
    'the reward model is not offered as a sampler',
  );
  await screenshot('pick-model');
  await model.click();
  const source = page.locator('.quick-input-list .monaco-list-row', { hasText: 'run.tiny.yaml' }).first();
  await source.waitFor({ state: 'visible', timeout: 30000 });
  await screenshot('pick-prompts');
  await source.click();

  await waitForNotification('24 completions (3 groups)', { timeoutMs: 90000 });
  const tab = page.locator('.tabs-container .tab', { hasText: 'run.tiny.tiny-lm-onnx.samples.jsonl' });
  await tab.waitFor({ state: 'visible', timeout: 15000 });
  await screenshot('samples-file');

  await runCommand('GRPO: Open Reward Preview');
  const frame = await findFrame('table');
  await waitFor(
    async () =>
      /24 completions · 3 groups/.test((await frame.locator('body').textContent()) ?? '') &&
      /tiny-rm-onnx/.test((await frame.locator('thead').textContent()) ?? ''),
    {
      timeoutMs: 60000,
      message: 'the 24 sampled completions in 3 groups, with a tiny-rm-onnx column',
    },
  );
  const header = (await frame.locator('thead').textContent()) ?? '';
  assert.match(header, /emoji_reward/);
  assert.match(header, /length_reward/);
  const body = (await frame.locator('table').textContent()) ?? '';
  assert.match(body, /富士山の高さは？/, "the first question of the run config's dataset");
  assert.match(body, /-?\d+\.\d{3}/, 'numbers in the table');
  await screenshot('preview');
}
