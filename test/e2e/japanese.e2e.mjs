// The Japanese user interface end to end: code-server started with `--locale ja` and a language pack
// for it (test/e2e/languagePack.mjs), as a Japanese user's VS Code runs. GRPO Studio's own strings
// must then be Japanese everywhere they reach the user: the view, the palette, a diagnostic of the
// config check, and the notification of a run that cannot start (its config-check message included,
// not only the prefix).
import { ensurePythonEnv } from '../../scripts/setup-python.mjs';

const CONFIG = `model_name_or_path: models/tiny-qwen2
datasets:
  - path: json
    data_files: data/questions.jsonl
column_mapping:
  question: prompt
learnin_rate: 1.0e-5
reward_funcs:
  - rewards.length_reward
max_steps: 2
`;

export const options = {
  locale: 'ja',
  workspace: 'examples/emoji-length',
  files: { 'run.typo.yaml': CONFIG },
  settings: { 'grpoStudio.pythonPath': await ensurePythonEnv() },
  timeoutMs: 150000,
};

export async function run(ctx) {
  const {
    page,
    assert,
    openFile,
    openViewContainer,
    pickQuickItem,
    runCommand,
    screenshot,
    waitFor,
    waitForNotification,
    waitForTreeItem,
  } = ctx;
  await openViewContainer('GRPO');
  await page.locator('.pane-header', { hasText: '報酬関数' }).first().waitFor({ state: 'visible', timeout: 20000 });
  await waitForTreeItem('emoji_reward', { timeoutMs: 30000 });
  await screenshot('view');

  await openFile('run.typo.yaml');
  await runCommand('View: Focus Problems (Errors, Warnings, Infos)');
  const problems = async () => (await page.locator('.markers-panel').textContent()) ?? '';
  await waitFor(async () => /'learning_rate' のことですか\?/.test(await problems()), {
    timeoutMs: 30000,
    message: 'the config check speaks Japanese in the Problems panel',
  });
  assert.match(await problems(), /'learnin_rate' は TRL [\d.]+ の GRPO 実行設定/);
  assert.doesNotMatch(await problems(), /is not a field of TRL/, 'no English left in the message');
  await screenshot('problems');

  // The palette lists GRPO Studio's commands by their Japanese titles; Train refuses the typo in Japanese.
  await openFile('run.typo.yaml');
  await runCommand('GRPO: 学習');
  await page.locator('.quick-input-widget input[placeholder="学習に使う実行設定または学習スクリプト"]').waitFor({ timeout: 15000 });
  await screenshot('train-pick');
  await pickQuickItem('run.typo.yaml');
  const refusal = await waitForNotification('GRPO: 開始できません', { timeoutMs: 60000 });
  const text = (await refusal.textContent()) ?? '';
  assert.match(text, /'learnin_rate' は TRL [\d.]+ の GRPO 実行設定/, `the reason is Japanese too: ${text}`);
  assert.doesNotMatch(text, /is not a field|cannot start/, `no English in the refusal: ${text}`);
  await page.waitForTimeout(800); // the toast slides in
  await screenshot('train-refused');
}
