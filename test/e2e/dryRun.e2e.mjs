// "GRPO: Dry Run" from the lens above a run config: TRL's first generation step on the config's
// own (tiny) model and data, no training. The completions are saved as a sample set and open in
// the Reward Preview panel with the signal report on top; the report's numbers are TRL's.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { trainingOptions } from './trainingExample.mjs';

export const options = trainingOptions;

export async function run(ctx) {
  const { page, assert, workspace, openFile, screenshot, waitFor, findFrame } = ctx;
  await openFile('run.tiny.yaml');
  const lens = page.locator('.contentWidgets .codelens-decoration a', { hasText: 'Dry Run' });
  await lens.waitFor({ state: 'visible', timeout: 30000 });
  assert.ok(await page.locator('.contentWidgets .codelens-decoration a', { hasText: 'Train' }).isVisible(), 'Train beside it');
  await lens.click();

  const frame = await findFrame('.signal-report', { timeoutMs: 180000 });
  const report = frame.locator('.signal-report');
  await waitFor(
    async () =>
      /Dry run of run\.tiny\.yaml: models\/tiny-qwen2, 8 completions per prompt/.test((await report.locator('h2').textContent()) ?? ''),
    {
      message: 'the report names the config, the model and G',
    },
  );
  const stats = await report.locator('.stat-value').allTextContents();
  assert.equal(stats.length, 3);
  assert.deepEqual(
    await report.locator('.signal-table:not(.pairs) tbody td:first-child').allTextContents(),
    ['emoji_reward', 'length_reward'],
    'one row per reward of the config',
  );

  const saved = readdirSync(path.join(workspace, 'dry-runs')).filter((f) => /^run\.tiny-\d{8}-\d{6}\.samples\.jsonl$/.test(f));
  assert.equal(saved.length, 1, 'the completions are saved as a sample set');
  const lines = readFileSync(path.join(workspace, 'dry-runs', saved[0]), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(lines.length, 64, '8 prompts × 8 completions');
  assert.equal(new Set(lines.slice(0, 8).map((l) => l.prompt)).size, 1, 'a group is one prompt');
  // The panel scores the saved set with the workspace's rewards, as it does every sample set.
  await frame.locator('tr.sample').first().waitFor({ timeout: 60000 });
  assert.equal(await frame.locator('tr.sample').count(), 64);
  assert.match((await frame.locator('.summary').textContent()) ?? '', /64 completions · 8 groups/);
  await screenshot('dry-run-report');
}
