// A new user's first steps: the "Get started with GRPO Studio" walkthrough from the Welcome page,
// its "New Reward Function" button (a new Python file with a reward shaped as GRPOTrainer calls
// it), then the same command in the palette over a rewards file: the reward inserted below the
// others is discovered and listed as soon as its name is typed.
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const options = { workspace: 'examples/emoji-length', timeoutMs: 120000 };

export async function run(ctx) {
  const {
    page,
    assert,
    workspace,
    openFile,
    runCommand,
    pickQuickItem,
    screenshot,
    waitFor,
    waitForTreeItem,
    openViewContainer,
    decorationTexts,
  } = ctx;
  await openFile('rewards.py');
  const editorText = async () => ((await page.locator('.editor-instance .view-lines').first().textContent()) ?? '').replace(/\u00a0/g, ' ');

  await runCommand('Welcome: Open Walkthrough...');
  await pickQuickItem('Get started with GRPO Studio');
  const steps = page.locator('.getting-started-step');
  await waitFor(async () => (await steps.count()) === 5, { timeoutMs: 30000, message: 'the five steps of the walkthrough' });
  const titles = await steps.locator('.step-title').allTextContents();
  assert.deepEqual(
    titles.map((t) => t.trim()),
    ['Open the example', 'Write a reward function', 'See what it scores', 'Dry run your policy', 'Train and watch'],
  );
  await steps.filter({ hasText: 'Write a reward function' }).click();
  await page.waitForTimeout(500);
  await screenshot('walkthrough');
  await page
    .locator('.getting-started-step.expanded .button-link, .getting-started-step.expanded a', { hasText: 'New Reward Function' })
    .first()
    .click();
  await waitFor(async () => /def my_reward\(completions, \*\*kwargs\):/.test(await editorText()), {
    timeoutMs: 30000,
    message: 'a new Python file with the reward function',
  });
  assert.ok(/texts = \[c\[0\]\["content"\] if isinstance\(c, list\) else c for c in completions\]/.test(await editorText()));
  await screenshot('new-reward-untitled');

  // In a rewards file: inserted below its last function (two blank lines apart), the name selected to type over.
  await openFile('draft_rewards.py');
  await page.keyboard.press('Control+End');
  await runCommand('GRPO: New Reward Function');
  await waitFor(async () => /def my_reward\(completions/.test(await editorText()), { message: 'the snippet inserted, its name selected' });
  await page.keyboard.type('tidy_reward');
  await waitFor(async () => /def tidy_reward\(completions, \*\*kwargs\):/.test(await editorText()), {
    timeoutMs: 15000,
    message: 'the reward inserted with the typed name',
  });
  await page.keyboard.press('Escape');
  await page.keyboard.press('Control+S');
  await waitFor(
    () => /\n\n\ndef tidy_reward\(completions, \*\*kwargs\):\n/.test(readFileSync(path.join(workspace, 'draft_rewards.py'), 'utf8')),
    {
      message: 'saved with two blank lines above the new function',
    },
  );
  await openViewContainer('GRPO');
  await waitForTreeItem('tidy_reward');
  // Every sample answer is short: the new reward gives 1 to all, and says that teaches nothing.
  await waitFor(
    async () => (await decorationTexts()).some((t) => /^μ 1 σ 0 \[1 … 1\] · no learning signal: σ 0 in every group · 16 samples/.test(t)),
    {
      timeoutMs: 60000,
      message: 'the inline hint of a reward without learning signal',
    },
  );
  await screenshot('new-reward-listed');
}
