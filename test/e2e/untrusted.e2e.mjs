// In Restricted Mode (the user does not trust the folder) discovery and the contract check still
// run: they read code, never execute it. Previews, which would run it, stay off.
import { existsSync } from 'node:fs';
import path from 'node:path';

export const options = {
  workspace: 'examples/emoji-length',
  files: {
    'sneaky_rewards.py': [
      'import pathlib',
      'pathlib.Path(__file__).with_name("imported.marker").write_text("this module ran")',
      '',
      'def sneaky_reward(completions, **kwargs):',
      '    return [0.0 for c in completions]',
    ].join('\n'),
  },
  settings: { 'security.workspace.trust.enabled': true, 'security.workspace.trust.startupPrompt': 'always' },
};

export async function run({ page, assert, workspace, openFile, openViewContainer, waitForTreeItem, screenshot, waitFor, decorationTexts }) {
  const decline = page.getByRole('button', { name: /No, I don.t trust the authors/ });
  await decline.waitFor({ state: 'visible', timeout: 30000 });
  await screenshot('trust-prompt');
  await decline.click();
  await page.locator('.statusbar-item', { hasText: 'Restricted Mode' }).first().waitFor({ state: 'visible', timeout: 15000 });

  await openFile('draft_rewards.py');
  await openViewContainer('GRPO');
  await waitForTreeItem('politeness_reward');
  await waitForTreeItem('emoji_reward');
  await waitFor(async () => (await page.locator('.monaco-editor .squiggly-error').count()) >= 2, {
    message: 'error squiggles in Restricted Mode',
  });
  const status = (await page.locator('.statusbar-item', { hasText: 'rewards' }).first().textContent()) ?? '';
  assert.match(status, /5 rewards/);
  await screenshot('restricted-mode');

  await openFile('sneaky_rewards.py');
  await waitForTreeItem('sneaky_reward');
  await waitFor(async () => (await decorationTexts()).some((t) => /Restricted Mode/.test(t)), {
    message: 'the preview notice where the numbers would be',
  });
  assert.ok(!existsSync(path.join(workspace, 'imported.marker')), 'the reward module was imported in Restricted Mode');
  await screenshot('no-preview');
}
