// A run that fails says why where the user is looking. A config naming a data file that does not
// exist is stopped by Train's pre-flight, before any model loads. A run whose reward raises at its
// first step fails after the model loaded: a notification gives the cause with "Show Log" (which
// opens runner.log) and the dashboard's header shows it too.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { trainingOptions } from './trainingExample.mjs';

export const options = trainingOptions;

export async function run(ctx) {
  const { page, assert, workspace, openFile, runCommand, pickQuickItem, screenshot, waitFor, waitForNotification, findFrame, writeFile } =
    ctx;
  const config = readFileSync(path.join(workspace, 'run.tiny.yaml'), 'utf8').replace(
    'max_completion_length: 64',
    'max_completion_length: 8',
  );

  const train = async (file) => {
    await runCommand('GRPO: Train');
    await pickQuickItem(file);
  };

  // The extension is up once its lens shows above a run config.
  await openFile('run.tiny.yaml');
  await page.locator('.contentWidgets .codelens-decoration a', { hasText: 'Train' }).first().waitFor({ state: 'visible', timeout: 60000 });

  writeFile('missing.yaml', config.replace('data/questions.jsonl', 'data/no-such-file.jsonl'));
  await train('missing.yaml');
  await waitForNotification('data/no-such-file.jsonl does not exist', { timeoutMs: 60000 });
  await screenshot('preflight-missing-data');

  // Sound by the contract check (the pre-flight lets it through); it fails only when called.
  writeFile(
    'broken_rewards.py',
    'def down_reward(completions, **kwargs):\n    return score_remotely(completions)\n\n\ndef score_remotely(texts):\n    raise RuntimeError("the reward service is down")\n',
  );
  writeFile('failing.yaml', config.replace(/reward_funcs:\n(\s+- .*\n)+/, 'reward_funcs:\n  - broken_rewards.down_reward\n'));
  await train('failing.yaml');
  const toast = await waitForNotification('RuntimeError: the reward service is down', { timeoutMs: 180000 });
  await waitFor(async () => /failed/.test((await toast.textContent()) ?? ''), { message: 'the notification says the run failed' });
  const frame = await findFrame('.runs .cause', { timeoutMs: 30000 });
  await waitFor(
    async () => /Failed: RuntimeError: the reward service is down/.test((await frame.locator('.runs .cause').first().textContent()) ?? ''),
    {
      timeoutMs: 30000,
      message: "the dashboard's header shows the cause",
    },
  );
  await screenshot('failed-run-notified');

  await toast.locator('a.monaco-button, .monaco-button', { hasText: 'Show Log' }).first().click();
  await waitFor(async () => (await page.locator('.tab', { hasText: 'runner.log' }).count()) > 0, {
    message: 'Show Log opens runner.log',
  });
  // The editor shows the top of the log (Monaco renders only the lines in view); the cause is in the file.
  await waitFor(async () => /runner\.log/.test((await page.locator('.tab.active').first().textContent()) ?? ''), {
    message: 'runner.log is the active editor',
  });
  const [runName] = readdirSync(path.join(workspace, 'runs')).filter((n) => n.endsWith('-failing'));
  assert.match(readFileSync(path.join(workspace, 'runs', runName, 'runner.log'), 'utf8'), /RuntimeError: the reward service is down/);
  await screenshot('runner-log');
}
