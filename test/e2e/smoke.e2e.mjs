// Smoke: the workbench loads with the packaged extension installed and its GRPO view container
// (id `grpo`, view "Reward Functions") opens.

export const options = {
  files: {
    'rewards.py': 'def length_reward(completions, **kwargs):\n    return [float(len(c)) for c in completions]\n',
  },
};

export async function run({ page, assert, server, openFile, openViewContainer, runCommand, screenshot, waitFor }) {
  assert.ok(
    server.extensions.some((e) => e.startsWith('grpo-studio.grpo-studio@')),
    `extension not installed: ${server.extensions.join(', ')}`,
  );

  // A Python file activates the extension (onLanguage:python).
  await openFile('rewards.py');

  const sidebar = await openViewContainer('GRPO');
  await waitFor(async () => /reward functions/i.test((await sidebar.textContent()) ?? ''), {
    message: 'the "Reward Functions" view in the GRPO container',
  });
  await screenshot('grpo-view');

  // The Extensions view lists locally installed extensions even without a marketplace.
  await runCommand('View: Show Extensions');
  const item = page.locator('.part.sidebar .extension-list-item').filter({ hasText: 'GRPO Studio' }).first();
  await item.waitFor({ state: 'visible', timeout: 20000 });
  await screenshot('extensions');
}
