// "GRPO: Compare Generations" on a short real run of the example: the base model and the run's
// final model answer the same questions side by side, four samples each with the run's own
// sampling settings, each answer with its reward scores and each side with their means.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from './harness.mjs';
import { python, trainingOptions } from './trainingExample.mjs';

export const options = trainingOptions;

export async function run({ page, assert, workspace, runCommand, screenshot, findFrame }) {
  // A finished two-step run, made with the CLI as a user would before comparing.
  execFileSync(
    process.execPath,
    [
      path.join(REPO_ROOT, 'dist', 'cli.js'),
      'train',
      '--config',
      'run.tiny.yaml',
      '--max-steps',
      '2',
      '--run-dir',
      path.join(workspace, 'runs', 'short'),
    ],
    {
      cwd: workspace,
      env: { ...process.env, GRPO_STUDIO_PYTHON: python },
      stdio: 'ignore',
    },
  );

  await runCommand('GRPO: Compare Generations (base vs trained)');
  // Pick the run, then the checkpoint to compare: its final model.
  const runRow = page.locator('.quick-input-list .monaco-list-row', { hasText: 'short' }).first();
  await runRow.waitFor({ state: 'visible', timeout: 30000 });
  await runRow.click();
  const finalModel = page.locator('.quick-input-list .monaco-list-row', { hasText: 'final model' }).first();
  await finalModel.waitFor({ state: 'visible', timeout: 30000 });
  await screenshot('pick-checkpoint');
  await finalModel.click();
  // Then how they answer: sampled with the run's own settings (temperature 0.9 in run.tiny.yaml).
  const sampled = page.locator('.quick-input-list .monaco-list-row', { hasText: 'Sampled as in training: 4 answers per prompt' }).first();
  await sampled.waitFor({ state: 'visible', timeout: 30000 });
  assert.match((await sampled.textContent()) ?? '', /temperature 0\.9, top_p 1; seed 42, the same for both models/);
  await screenshot('pick-decoding');
  await sampled.click();

  const frame = await findFrame('section .pair', { timeoutMs: 180000 });
  await page
    .locator('.tabs-container .tab', { hasText: /: tiny-qwen2 \(base\) vs final model/ })
    .first()
    .waitFor({ state: 'visible', timeout: 30000 });
  const sections = await frame.locator('section').count();
  assert.equal(sections, 8, "the run's first eight questions");
  const text = (await frame.locator('body').textContent()) ?? '';
  assert.match(text, /emoji_reward/);
  assert.match(text, /length_reward/);
  assert.equal(await frame.locator('section').first().locator('.text').count(), 8, 'four answers per model');
  assert.equal(await frame.locator('caption', { hasText: 'Mean of 4 answers' }).count(), 16);
  assert.match(text, /Sampled as in training, 4 answers per prompt \(temperature 0\.9, top_p 1; seed 42\)/);
  await screenshot('comparison');
}
