// Reward previews as a user meets them in the example: numbers at each reward function after a
// save, "Score this completion" in the samples file, and the Reward Preview panel.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ensurePythonEnv } from '../../scripts/setup-python.mjs';

export const options = {
  workspace: 'examples/emoji-length',
  // The example's rewards import `emoji`: the test venv has it.
  settings: { 'grpoStudio.pythonPath': await ensurePythonEnv() },
  timeoutMs: 180000,
};

const summaries = async (decorationTexts) => (await decorationTexts()).filter((t) => /^μ .* σ .* · 16 samples/.test(t));

export async function run(ctx) {
  const {
    page,
    assert,
    workspace,
    openFile,
    runCommand,
    screenshot,
    waitFor,
    findFrame,
    decorationTexts,
    writeFile,
    waitForNotification,
    setSettings,
  } = ctx;

  await openFile('rewards.py');
  // The reading that shows both (the editor may re-render its lines right after).
  let before = [];
  await waitFor(async () => (before = await summaries(decorationTexts)).length === 2, {
    timeoutMs: 60000,
    message: 'inline summaries at both rewards',
  });
  assert.ok(
    before.some((t) => t.includes('[0 … 4]')),
    `emoji_reward ranges 0 … 4: ${before}`,
  );
  await screenshot('inline');

  // Hovering the definition shows a histogram and the best and worst completions.
  await page
    .locator('.monaco-editor .view-line span', { hasText: /^emoji_reward$/ })
    .first()
    .hover();
  const hover = page.locator('.monaco-hover', { hasText: 'Best' });
  await hover.waitFor({ state: 'visible', timeout: 15000 });
  assert.match((await hover.textContent()) ?? '', /だいたい4月です/);
  await screenshot('hover');
  await page.keyboard.press('Escape');

  // Edit the cap from 4 to 2 and save: the numbers follow.
  await page.keyboard.press('Control+H');
  await page.keyboard.type('c), 4)');
  await page.keyboard.press('Tab');
  await page.keyboard.type('c), 2)');
  await page.keyboard.press('Control+Alt+Enter');
  await page.keyboard.press('Escape');
  await page.keyboard.press('Control+S');
  await waitFor(async () => (await summaries(decorationTexts)).some((t) => t.includes('[0 … 2]')), {
    timeoutMs: 30000,
    message: 'the emoji summary shows the new cap after saving',
  });
  await screenshot('after-save');

  // "Score this completion" on the third sample of the samples file.
  await openFile('qa.samples.jsonl');
  const lens = page.locator('.contentWidgets .codelens-decoration a', { hasText: 'Score this completion' });
  await waitFor(async () => (await lens.count()) >= 13, { message: 'a lens above every sample line' });
  await lens.nth(2).click();
  // The lens shows the scores of the trainer's rewards (train.py wires these two; the drafts are not in the total).
  const scored = page.locator('.contentWidgets .codelens-decoration a', {
    hasText: /emoji_reward\s2×1\s\+\slength_reward\s0\.223×1\s→\stotal\s2\.223/,
  });
  await scored.first().waitFor({ state: 'visible', timeout: 30000 });
  // The panel opens beside, without taking the focus: the samples file stays the active editor.
  await waitFor(
    async () => /qa\.samples\.jsonl/.test((await page.locator('.editor-group-container.active .tab.active').first().textContent()) ?? ''),
    { message: 'the samples file stays in front' },
  );
  await screenshot('score-this-completion');

  // The panel: a table of the sample set with the zero-std warning.
  const frame = await findFrame('table');
  await waitFor(async () => /no learning signal/.test((await frame.locator('body').textContent()) ?? ''), {
    message: 'the zero-std warning in the Reward Preview panel',
  });
  const rows = await frame.locator('tbody tr').count();
  assert.ok(rows >= 16, `${rows} rows`);
  await screenshot('panel');

  // The panel says whose rewards it totals, and follows that config while it is edited.
  const sourceText = async () => (await frame.locator('.source-label').textContent()) ?? '';
  await waitFor(async () => /Rewards of grpo\.yaml: emoji_reward ×1, length_reward ×1/.test(await sourceText()), {
    message: 'the panel names its source and weights',
  });
  await openFile('grpo.yaml');
  await page.keyboard.press('Control+G');
  await page.keyboard.type('7:1');
  await page.keyboard.press('Enter');
  await page.keyboard.type('reward_weights: [1.0, 2.0]');
  await page.keyboard.press('Enter');
  await waitFor(async () => /emoji_reward ×1, length_reward ×2/.test(await sourceText()), {
    timeoutMs: 30000,
    message: "the config's reward_weights, typed and not saved yet, in the panel",
  });
  await page.keyboard.press('Control+S');
  // A weight changed in the panel goes back into the config, on request.
  await frame.locator('vscode-textfield#weight-0').evaluate((field) => {
    field.value = '3';
    field.dispatchEvent(new Event('change'));
  });
  const write = frame.locator('vscode-button.write-weights', { hasText: 'Write weights to grpo.yaml' });
  await write.waitFor({ state: 'visible', timeout: 30000 });
  await screenshot('preview-source');
  await write.click();
  const config = path.join(workspace, 'grpo.yaml');
  await waitFor(() => /^reward_weights: \[3, 2\]$/m.test(readFileSync(config, 'utf8')), {
    message: 'the panel weights written into grpo.yaml',
  });
  await waitFor(async () => /emoji_reward ×3, length_reward ×2/.test(await sourceText()), { message: 'the panel reads them back' });
  await waitFor(() => write.isHidden(), { message: 'nothing left to write once the config has the weights' });

  // A reward that raises: a diagnostic at the failing line of the user's code, no stale numbers.
  writeFile(
    'broken_rewards.py',
    [
      'def ratio_reward(completions, **kwargs):',
      '    log_metric = kwargs["log_metric"]',
      '    log_metric("calls", 1.0)',
      '    return [len(c) / 0 for c in completions]',
      '',
    ].join('\n'),
  );
  await openFile('broken_rewards.py');
  await page.keyboard.press('Control+S');
  await runCommand('View: Focus Problems (Errors, Warnings, Infos)');
  await waitFor(
    async () => /ratio_reward raised ZeroDivisionError: division by zero/.test((await page.locator('.markers-panel').textContent()) ?? ''),
    {
      timeoutMs: 30000,
      message: 'the exception as a diagnostic',
    },
  );
  assert.match((await page.locator('.markers-panel').textContent()) ?? '', /\[Ln 4, Col 1\]/);
  await waitFor(async () => (await decorationTexts()).some((t) => /GRPO: ZeroDivisionError/.test(t)), {
    message: 'the error where the numbers would be',
  });
  await screenshot('raised');

  // Any selected text scores as a completion.
  writeFile('answer.txt', '東京です🗼🍣');
  await openFile('answer.txt');
  await page.keyboard.press('Control+A');
  await runCommand('GRPO: Score Selection as Completion');
  // With the weights grpo.yaml has now, shown next to each score.
  await waitForNotification('emoji_reward 2×3 + length_reward');
  await screenshot('score-selection');

  // One lens per GRPO group instead of one per line: the first lines of the four groups (1, 5, 9
  // and the group line 13), and line 3, scored above, which keeps its scores.
  setSettings({ 'grpoStudio.preview.sampleLenses': 'group' });
  await runCommand('Notifications: Clear All Notifications');
  await openFile('qa.samples.jsonl');
  const lensLines = async () => page.locator('.editor-group-container.active .contentWidgets .codelens-decoration a').count();
  await waitFor(async () => (await lensLines()) === 5, { timeoutMs: 30000, message: 'a lens above the first line of each group' });
  await screenshot('lenses-per-group');
}
