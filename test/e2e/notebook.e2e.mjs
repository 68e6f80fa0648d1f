// A reward in a notebook cell, as in Unsloth's and the cookbook's GRPO notebooks: the notebook
// editor shows the inline numbers at the `def` line inside its cell, the hover, the contract
// check's squiggle in the cell of a reward TRL would reject and its quick fix; and the preview runs only the cells
// the rewards need: the cell that writes a marker and builds the trainer never runs.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ensurePythonEnv } from '../../scripts/setup-python.mjs';

const cell = (source) => ({ cell_type: 'code', source, metadata: {}, outputs: [], execution_count: null });
const NOTEBOOK = {
  cells: [
    { cell_type: 'markdown', source: '# GRPO in a notebook', metadata: {} },
    cell('%%capture\n!pip install trl==0.22.2\n'),
    cell('import re\nfrom pathlib import Path\n\nEMOJI = re.compile("[\\U0001F300-\\U0001FAFF\\u2600-\\u27BF]")'),
    { cell_type: 'markdown', source: 'Rewards:', metadata: {} },
    cell(
      'def nb_emoji_reward(completions, **kwargs):\n    return [float(min(len(EMOJI.findall(c)), 4)) for c in completions]\n\n\ndef nb_strict_reward(prompts, completions):\n    return [1.0 for c in completions]',
    ),
    cell(
      'Path("MARKER_NOTEBOOK_RAN").write_text("ran")\nfrom trl import GRPOTrainer\ntrainer = GRPOTrainer(model="m", reward_funcs=[nb_emoji_reward, nb_strict_reward])\ntrainer.train()',
    ),
  ],
  metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' }, language_info: { name: 'python' } },
  nbformat: 4,
  nbformat_minor: 5,
};

export const options = {
  workspace: 'examples/emoji-length',
  files: { 'grpo notebook.ipynb': JSON.stringify(NOTEBOOK, null, 1) },
  settings: { 'grpoStudio.pythonPath': await ensurePythonEnv() },
  timeoutMs: 180000,
};

export async function run(ctx) {
  const { page, assert, workspace, openFile, openQuickFix, runCommand, screenshot, waitFor, decorationTexts } = ctx;
  // Quick open shows a notebook editor, not the text editor openFile waits for: the notebook's own wait follows.
  await openFile('grpo notebook.ipynb', { timeoutMs: 5000 }).catch(() => undefined);
  await page.locator('.notebook-editor .monaco-editor').first().waitFor({ state: 'visible', timeout: 60000 });

  const summaries = async () => (await decorationTexts()).filter((t) => /^μ .* σ .* · 16 samples/.test(t));
  let shown = [];
  await waitFor(async () => (shown = await summaries()).length >= 1, {
    timeoutMs: 90000,
    message: 'inline numbers at the reward inside its notebook cell',
  });
  assert.ok(
    shown.some((t) => t.includes('[0 … 4]')),
    `nb_emoji_reward ranges 0 … 4 on the example's samples: ${shown}`,
  );
  await screenshot('notebook-inline');

  await page
    .locator('.notebook-editor .monaco-editor .view-line span', { hasText: /^nb_emoji_reward$/ })
    .first()
    .hover();
  const hover = page.locator('.monaco-hover', { hasText: 'Best' });
  await hover.waitFor({ state: 'visible', timeout: 15000 });
  assert.match((await hover.textContent()) ?? '', /Ran \d+ of the \d+ top-level statements of grpo notebook\.ipynb/);
  await screenshot('notebook-hover');
  await page.keyboard.press('Escape');

  await runCommand('View: Focus Problems (Errors, Warnings, Infos)');
  await waitFor(
    async () =>
      /grpo notebook\.ipynb.*without \*\*kwargs.*GRPO101.*Ln 5, Col 21/.test((await page.locator('.markers-panel').textContent()) ?? ''),
    {
      timeoutMs: 30000,
      message: "the contract check's error on the reward TRL would reject, at its line in its cell",
    },
  );
  await screenshot('notebook-problems');

  // Its quick fix works inside the cell: click the Problems entry, then Ctrl+. there.
  await page
    .locator('.markers-panel .monaco-list-row', { hasText: /GRPO101.*Ln 5, Col 21/ })
    .first()
    .dblclick();
  await page.locator('.notebook-editor .monaco-editor.focused').first().waitFor({ state: 'visible', timeout: 15000 });
  await openQuickFix('Add **kwargs');
  await page.keyboard.press('Enter');
  await waitFor(
    async () =>
      /def nb_strict_reward\(prompts, completions, \*\*kwargs\):/.test(
        (await page.locator('.notebook-editor .monaco-editor .view-lines').allTextContents()).join('\n').replace(/\u00a0/g, ' '),
      ),
    { timeoutMs: 15000, message: 'the quick fix edited the reward in its notebook cell' },
  );
  await waitFor(async () => !/grpo notebook\.ipynb/.test((await page.locator('.markers-panel').textContent()) ?? ''), {
    timeoutMs: 30000,
    message: 'the error is gone once the cell is fixed (before saving)',
  });
  await screenshot('notebook-quick-fix');
  assert.ok(!existsSync(path.join(workspace, 'MARKER_NOTEBOOK_RAN')), "the trainer's cell never ran");
}
