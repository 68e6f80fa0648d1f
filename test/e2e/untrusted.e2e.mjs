// In Restricted Mode (the user does not trust the folder) discovery and the contract check still
// run: they read code, never execute it.
export const options = {
  workspace: 'examples/emoji-length',
  settings: { 'security.workspace.trust.enabled': true, 'security.workspace.trust.startupPrompt': 'always' },
};

export async function run({ page, assert, openFile, openViewContainer, waitForTreeItem, screenshot, waitFor }) {
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
  assert.match(status, /4 rewards/);
  await screenshot('restricted-mode');
}
