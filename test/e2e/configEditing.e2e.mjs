// Editing a run config as a user does: a mistyped field gets the config check's squiggle and a
// quick fix ("Change to 'learning_rate'"), and an entry of `reward_funcs:` completes with the
// workspace's reward functions, written as the runner finds them; a data file that does not
// exist is squiggled where the config names it.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ensurePythonEnv } from '../../scripts/setup-python.mjs';

const CONFIG = `model_name_or_path: models/tiny-qwen2
dataset_name: data/questions.jsonl
learnin_rate: 1.0e-5
reward_funcs:
  - rewards.length_reward
  - 
max_steps: 2
`;

export const options = {
  workspace: 'examples/emoji-length',
  files: { 'edit.yaml': CONFIG },
  settings: { 'grpoStudio.pythonPath': await ensurePythonEnv() },
  timeoutMs: 120000,
};

export async function run(ctx) {
  const { page, assert, workspace, openFile, openQuickFix, runCommand, screenshot, waitFor } = ctx;
  await openFile('edit.yaml');
  const goTo = async (line, column) => {
    await page.keyboard.press('Control+G');
    await page.keyboard.type(`${line}:${column}`);
    await page.keyboard.press('Enter');
  };
  const onDisk = () => readFileSync(path.join(workspace, 'edit.yaml'), 'utf8');

  await runCommand('View: Focus Problems (Errors, Warnings, Infos)');
  await waitFor(async () => /Did you mean 'learning_rate'\?/.test((await page.locator('.markers-panel').textContent()) ?? ''), {
    timeoutMs: 30000,
    message: 'the mistyped field is flagged with the field it meant',
  });
  await openFile('edit.yaml');
  await goTo(3, 3);
  await openQuickFix("Change to 'learning_rate'");
  await screenshot('quick-fix');
  await page.keyboard.press('Enter'); // the preferred (and only) fix
  await page.keyboard.press('Control+S');
  await waitFor(() => /^learning_rate: 1\.0e-5$/m.test(onDisk()), { message: 'the quick fix wrote the real field name' });

  await goTo(6, 10);
  await page.keyboard.press('End');
  await page.keyboard.type(' emo');
  await runCommand('Trigger Suggest');
  const suggestion = page.locator('.suggest-widget .monaco-list-row', { hasText: 'rewards.emoji_reward' }).first();
  await suggestion.waitFor({ state: 'visible', timeout: 15000 });
  assert.match(
    (await page.locator('.suggest-widget').textContent()) ?? '',
    /emoji_reward/,
    "the workspace's reward, under the typed filter",
  );
  await screenshot('reward-completion');
  await suggestion.click();
  await page.keyboard.press('Control+S');
  await waitFor(() => /^ {2}- rewards\.emoji_reward$/m.test(onDisk()), {
    message: `the chosen reward is written as a dotted path: ${onDisk()}`,
  });
  assert.match(onDisk(), /^ {2}- rewards\.length_reward$/m, 'the entry above is untouched');

  // A data file path with a typo: squiggled at the value, with the folders it was looked for in.
  await goTo(2, 1);
  await page.keyboard.press('Home');
  await page.keyboard.press('Shift+End');
  await page.keyboard.type('dataset_name: data/question.jsonl');
  await runCommand('View: Focus Problems (Errors, Warnings, Infos)');
  await waitFor(
    async () =>
      /dataset_name: data\/question\.jsonl does not exist \(relative paths are read from/.test(
        (await page.locator('.markers-panel').textContent()) ?? '',
      ),
    { timeoutMs: 30000, message: 'the missing data file is flagged as the config is typed' },
  );
  await screenshot('missing-data-file');
}
