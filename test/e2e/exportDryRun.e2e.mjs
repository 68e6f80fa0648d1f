// "GRPO: Export Model for In-Editor Sampling (ONNX)" on the example's model, then "GRPO: Dry Run":
// with the export in place the dry run samples in the editor (onnxruntime-node, no model loaded in
// Python), the rewards score it in the worker, and the signal report says where it was sampled. With
// many long completions the first group is on screen, saying so, while the other prompts are
// sampled; a dry run cancelled once its first group shows leaves no file, no tab and no report behind.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { trainingOptions } from './trainingExample.mjs';

export const options = trainingOptions;

export async function run(ctx) {
  const { page, assert, workspace, openFile, pickQuickItem, runCommand, screenshot, waitFor, waitForNotification, findFrame } = ctx;
  // The palette lists the extension's commands once the workbench has read its contributions.
  await page
    .locator('.statusbar-item', { hasText: /rewards/ })
    .first()
    .waitFor({ state: 'visible', timeout: 60000 });
  await runCommand('GRPO: Export Model for In-Editor Sampling (ONNX)');
  await screenshot('pick-model');
  await pickQuickItem('tiny-qwen2');
  await waitForNotification('tiny-qwen2 is exported for in-editor sampling', { timeoutMs: 180000 });
  await screenshot('exported');

  const config = path.join(workspace, 'run.tiny.yaml');
  writeFileSync(config, readFileSync(config, 'utf8').replace(/^max_completion_length: 64/m, 'max_completion_length: 448'));
  await openFile('run.tiny.yaml');
  const lens = page.locator('.contentWidgets .codelens-decoration a', { hasText: 'Dry Run' });
  await lens.waitFor({ state: 'visible', timeout: 30000 });
  await lens.click();
  // With 8 rows a prompt the tiny model's other prompts may be sampled before the first group is
  // on screen (the webview takes seconds on a busy machine): the first group is looked for below,
  // where the rows are four times as many.
  const frame = await findFrame('.signal-report', { timeoutMs: 180000 });
  const sampleLines = () =>
    readdirSync(path.join(workspace, 'dry-runs'))
      .filter((f) => f.endsWith('.samples.jsonl'))
      .map(
        (f) =>
          readFileSync(path.join(workspace, 'dry-runs', f), 'utf8')
            .trim()
            .split('\n').length,
      );
  await waitFor(async () => sampleLines()[0] === 64 && (await frame.locator('.signal-partial').count()) === 0, {
    timeoutMs: 180000,
    message: 'the whole dry run is saved and shown',
  });
  const heading = frame.locator('.signal-report h2');
  await waitFor(
    async () =>
      /Dry run of run\.tiny\.yaml: models\/tiny-qwen2, 8 completions per prompt, sampled in the editor from its ONNX export/.test(
        (await heading.textContent()) ?? '',
      ),
    { timeoutMs: 60000, message: 'the report says the completions were sampled in the editor' },
  );
  assert.deepEqual(await frame.locator('.signal-report .signal-table:not(.pairs) tbody td:first-child').allTextContents(), [
    'emoji_reward',
    'length_reward',
  ]);
  assert.deepEqual(sampleLines(), [64], 'one sample set: 8 prompts × 8 completions');
  const saved = readdirSync(path.join(workspace, 'dry-runs')).filter((f) => f.endsWith('.samples.jsonl'));
  const lines = readFileSync(path.join(workspace, 'dry-runs', saved[0]), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.ok(
    lines.every((l) => Array.isArray(l.completion_ids) && l.completion_ids.length > 0),
    'each completion is saved with the token ids the rewards got',
  );
  await frame.locator('tr.sample').first().waitFor({ timeout: 60000 });
  await screenshot('dry-run-in-editor');

  // Four times the rows: the sampler is still busy when the first group shows, and the user cancels.
  writeFileSync(config, readFileSync(config, 'utf8').replace(/^num_generations: 8/m, 'num_generations: 32'));
  await openFile('run.tiny.yaml');
  await lens.click();
  await frame
    .locator('.signal-partial', { hasText: 'The first prompt’s group only: the other 7 prompts are being sampled.' })
    .waitFor({ timeout: 120000 });
  await screenshot('first-group');
  const partial = readdirSync(path.join(workspace, 'dry-runs')).find((f) => !saved.includes(f));
  assert.ok(partial, 'the first group was saved while the others were sampled');
  await page.locator('.notifications-toasts .monaco-button', { hasText: 'Cancel' }).first().click();
  await frame.locator('.signal-partial').waitFor({ state: 'detached', timeout: 30000 });
  await waitFor(async () => (await page.locator('.tabs-container .tab', { hasText: partial }).count()) === 0, {
    timeoutMs: 15000,
    message: 'the cancelled set’s tab is closed',
  });
  assert.deepEqual(
    readdirSync(path.join(workspace, 'dry-runs')).filter((f) => f.endsWith('.samples.jsonl')),
    saved,
    'the cancelled dry run kept no sample set',
  );
  await screenshot('cancelled');
}
