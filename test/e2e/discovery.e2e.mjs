// Reward-function discovery as a user meets it in the example workspace: the GRPO tree lists the
// functions, a wrong signature is a squiggle with a diagnostic, the quick fixes repair it, and a
// reward typed into an unsaved buffer is checked live.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ensurePythonEnv } from '../../scripts/setup-python.mjs';

// The test environment's Python (it has the example's `emoji`), so the previews beside discovery score cleanly.
export const options = {
  workspace: 'examples/emoji-length',
  settings: { 'grpoStudio.pythonPath': await ensurePythonEnv() },
  timeoutMs: 150000,
};

async function problemsText(page) {
  return (
    (await page
      .locator('.markers-panel')
      .textContent()
      .catch(() => '')) ?? ''
  );
}

export async function run(ctx) {
  const { page, assert, workspace, openFile, openQuickFix, openViewContainer, waitForTreeItem, runCommand, screenshot, waitFor } = ctx;

  await openFile('draft_rewards.py');
  const sidebar = await openViewContainer('GRPO');
  for (const name of ['emoji_reward', 'length_reward', 'politeness_reward', 'question_reward']) {
    await waitForTreeItem(name);
  }
  const treeText = (await sidebar.textContent()) ?? '';
  assert.match(treeText, /rewards\.py/);
  assert.match(treeText, /draft_rewards\.py/);
  const status = page.locator('.statusbar-item', { hasText: 'rewards' }).first();
  await status.waitFor({ state: 'visible', timeout: 15000 });
  assert.match((await status.textContent()) ?? '', /4 rewards/);
  await screenshot('tree');

  // The two mistakes are squiggles in the editor and entries in the Problems panel.
  await waitFor(async () => (await page.locator('.monaco-editor .squiggly-error').count()) >= 2, {
    message: 'two error squiggles in draft_rewards.py',
  });
  await runCommand('View: Focus Problems (Errors, Warnings, Infos)');
  await waitFor(async () => /GRPO101/.test(await problemsText(page)) && /GRPO103/.test(await problemsText(page)), {
    message: 'GRPO101 and GRPO103 in the Problems panel',
  });
  assert.match(await problemsText(page), /unexpected keyword argument 'prompts'/);
  await screenshot('problems');

  // Quick fix on the signature of politeness_reward: Ctrl+. on the parameter list.
  await openFile('draft_rewards.py');
  await page.keyboard.press('Control+G');
  await page.keyboard.type('4:24');
  await page.keyboard.press('Enter');
  await openQuickFix('Add **kwargs');
  await screenshot('quick-fix-menu');
  await page.keyboard.press('Enter');
  await page.keyboard.press('Control+S');
  const file = path.join(workspace, 'draft_rewards.py');
  await waitFor(() => readFileSync(file, 'utf8').includes('def politeness_reward(completions, **kwargs):'), {
    message: 'the quick fix saved into draft_rewards.py',
  });
  await waitFor(async () => !/GRPO101/.test(await problemsText(page)), { message: 'GRPO101 gone after the fix' });
  assert.match(await problemsText(page), /GRPO103/, 'the other problem stays');
  await screenshot('after-fix');

  // The singular parameter: the fix renames it in the signature and in the body.
  await page.keyboard.press('Control+G');
  await page.keyboard.type('9:22');
  await page.keyboard.press('Enter');
  await openQuickFix("Rename 'completion' to 'completions'");
  await page.keyboard.press('Enter');
  await page.keyboard.press('Control+S');
  await waitFor(() => readFileSync(file, 'utf8').includes('def question_reward(completions, **kwargs):'), {
    message: 'the rename saved into draft_rewards.py',
  });
  assert.match(readFileSync(file, 'utf8'), /for c in completions\]/, 'the body reads the renamed parameter');
  await waitFor(async () => !/GRPO103/.test(await problemsText(page)), { message: 'GRPO103 gone after the rename' });

  // Typing a new reward into the unsaved buffer is checked while typing.
  await page.keyboard.press('Control+End');
  await page.keyboard.press('Enter');
  await page.keyboard.type('\ndef typed_reward(prompts, completions):\n    return [1.0 for c in completions]\n', { delay: 5 });
  await waitForTreeItem('typed_reward');
  await waitFor(async () => /completion_ids=, trainer_state=/.test(await problemsText(page)), {
    message: 'a live GRPO101 for typed_reward before saving',
  });
  assert.ok(!readFileSync(file, 'utf8').includes('typed_reward'), 'the check ran on the unsaved buffer');
  await screenshot('live-typing');
}
