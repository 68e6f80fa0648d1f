// "Train this script" on the origin's one-file shape (rewards, data, GRPOTrainer and train() at
// module level, no __main__ guard), unedited: the lens above its train() starts it as a run with
// the arguments of grpoStudio.train.scriptArgs, the dashboard fills, Stop saves a checkpoint,
// Resume continues the step count through the script's own train().
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './harness.mjs';
import { python, trainingOptions } from './trainingExample.mjs';

const SCRIPT = readFileSync(path.join(REPO_ROOT, 'test', 'fixtures', 'origin', 'train_tiny.py'), 'utf8');
const ARGS = ['--model', 'models/tiny-qwen2', '--steps', '400'];

export const options = {
  ...trainingOptions,
  files: { '学習 script.py': SCRIPT },
  settings: { ...trainingOptions.settings, 'grpoStudio.train.scriptArgs': { '学習 script.py': ARGS } },
};

export async function run(ctx) {
  const { page, assert, workspace, openFile, runCommand, screenshot, waitFor, findFrame } = ctx;
  assert.ok(python);
  await openFile('学習 script.py');
  const lens = page.locator('.contentWidgets .codelens-decoration a', { hasText: `Train this script (${ARGS.join(' ')})` }).first();
  await lens.waitFor({ state: 'visible', timeout: 60000 });
  await screenshot('script-lens');
  await lens.click();

  let frame = await findFrame('figure.chart-card[data-key="reward"]', { timeoutMs: 120000 });
  const stepShown = async () =>
    Number(/step (\d+)/.exec((await frame.locator('.runs .progress-label').first().textContent()) ?? '')?.[1] ?? 0);
  await waitFor(async () => (await stepShown()) >= 3, { timeoutMs: 120000, message: "the script's steps arrive in the dashboard" });
  await screenshot('script-dashboard');

  await runCommand('GRPO: Stop Run (save a checkpoint)');
  await waitFor(async () => /stopped/.test((await frame.locator('.runs .status').first().textContent()) ?? ''), {
    timeoutMs: 60000,
    message: 'the script run stopped',
  });
  const runsDir = path.join(workspace, 'runs');
  const [runName] = readdirSync(runsDir).filter((n) => n.endsWith('-学習-script'));
  assert.ok(runName, `a run folder named after the script: ${readdirSync(runsDir)}`);
  const readEvents = () =>
    readFileSync(path.join(runsDir, runName, 'events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
  let events = readEvents();
  const stoppedAt = events.at(-1).step;
  assert.equal(events.at(-1).status, 'stopped');
  assert.deepEqual(events[0].argv.slice(1), ARGS, "the setting's arguments reached the script");
  assert.ok(readdirSync(path.join(runsDir, runName)).includes(`checkpoint-${stoppedAt}`), 'Stop saved a checkpoint in the run folder');

  await runCommand('GRPO: Resume Run');
  frame = await findFrame('figure.chart-card[data-key="reward"]', { timeoutMs: 60000 });
  await waitFor(async () => (await stepShown()) >= stoppedAt + 2, {
    timeoutMs: 120000,
    message: 'the resumed script continues the step count',
  });
  await runCommand('GRPO: Stop Run (save a checkpoint)');
  await waitFor(async () => /stopped/.test((await frame.locator('.runs .status').first().textContent()) ?? ''), {
    timeoutMs: 60000,
    message: 'the resumed script run stopped',
  });
  await screenshot('script-resumed');
  events = readEvents();
  const starts = events.filter((e) => e.event === 'start');
  assert.equal(starts.length, 2);
  assert.equal(starts[1].resumed_from?.step, stoppedAt);
  const logged = events.filter((e) => e.event === 'log').map((e) => e.step);
  assert.deepEqual(
    logged,
    logged.map((_, i) => i + 1),
    'every step logged once, in order',
  );
}
