// "GRPO: Train" as a user runs it on the example: the pre-flight passes, a real TRL GRPO run of
// the tiny model starts on the CPU, the dashboard's charts fill as steps arrive, the run survives a
// window reload (the editor reattaches to it), generated completions go into a sample set, Stop
// saves a checkpoint, Resume continues the step count from it, and a config with the origin's
// removed field is explained before anything starts.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { trainingOptions } from './trainingExample.mjs';

export const options = trainingOptions;

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
    findFrame,
    writeFile,
    openViewContainer,
    waitForTreeItem,
  } = ctx;

  // The origin's config mistake is explained in the editor, before any training.
  writeFile('origin.yaml', `${readFileSync(path.join(workspace, 'run.tiny.yaml'), 'utf8')}\nmax_prompt_length: 256\n`);
  await openFile('origin.yaml');
  await runCommand('View: Focus Problems (Errors, Warnings, Infos)');
  await waitFor(
    async () => /'max_prompt_length' was removed from GRPOConfig/.test((await page.locator('.markers-panel').textContent()) ?? ''),
    {
      message: 'the removed field explained',
    },
  );
  await screenshot('config-check');

  // A setting changed through the UI (code-server writes it to its User layer; it also has a Remote
  // one) must leave the interpreter that Train's pre-flight uses as it was: the one the previews use.
  await runCommand('Preferences: Color Theme');
  await pickQuickItem('Light Modern');

  await runCommand('GRPO: Train');
  await pickQuickItem('run.tiny.yaml');

  let frame = await findFrame('figure.chart-card[data-key="reward"]', { timeoutMs: 120000 });
  const stepShown = async () =>
    Number(/step (\d+)/.exec((await frame.locator('.runs .progress-label').first().textContent()) ?? '')?.[1] ?? 0);
  await waitFor(async () => (await stepShown()) >= 3, { timeoutMs: 120000, message: 'steps arriving in the dashboard' });
  await screenshot('dashboard-live');

  // A window reload: the detached run keeps training and the editor finds it again.
  await runCommand('Developer: Reload Window');
  await page.locator('.monaco-workbench .part.activitybar').waitFor({ state: 'visible', timeout: 60000 });
  await openViewContainer('GRPO');
  const runItem = await waitForTreeItem('run.tiny');
  await waitFor(async () => /running/.test((await runItem.textContent()) ?? ''), { message: 'the run is still running after the reload' });
  const beforeReopen = Number(/step (\d+)/.exec((await runItem.textContent()) ?? '')?.[1] ?? 0);
  await runCommand('GRPO: Open Dashboard');
  frame = await findFrame('figure.chart-card[data-key="reward"]', { timeoutMs: 60000 });
  await waitFor(async () => (await stepShown()) > beforeReopen, {
    timeoutMs: 60000,
    message: 'the reattached dashboard keeps getting steps',
  });
  await screenshot('reattached');

  await runCommand('GRPO: Stop Run (save a checkpoint)');
  await waitFor(async () => /stopped/.test((await frame.locator('.runs .status').first().textContent()) ?? ''), {
    timeoutMs: 60000,
    message: 'the run stopped',
  });
  await screenshot('stopped');

  // Completions from the (stopped, so no longer changing) run into the sample set the previews score.
  const samplesBefore = readFileSync(path.join(workspace, 'qa.samples.jsonl'), 'utf8').trim().split('\n').length;
  await frame.locator('vscode-tab-header', { hasText: 'Completions' }).click();
  // Every completion once, live events after the reload included (the table keeps the latest 200).
  const runsDir = path.join(workspace, 'runs');
  const [runName] = readdirSync(runsDir);
  const readEvents = () =>
    readFileSync(path.join(runsDir, runName, 'events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
  const rowsPerStep = (steps) => steps.reduce((counts, step) => counts.set(step, (counts.get(step) ?? 0) + 1), new Map());
  const completionSteps = readEvents()
    .filter((e) => e.event === 'completions')
    .flatMap((e) => e.rows.map(() => e.step))
    .slice(-200);
  const shown = (await frame.locator('table.completions tbody tr td:nth-child(3)').allTextContents()).map(Number);
  assert.deepEqual(
    [...rowsPerStep(shown)].sort(),
    [...rowsPerStep(completionSteps)].sort(),
    'the table shows each completion of the run once',
  );
  await frame.locator('table.completions tbody tr input[type=checkbox]').first().check();
  await frame.locator('#add-to-samples').click();
  const pick = page.locator('.quick-input-list .monaco-list-row', { hasText: 'qa.samples.jsonl' }).first();
  await pick.waitFor({ state: 'visible', timeout: 15000 });
  await pick.click();
  await waitFor(() => readFileSync(path.join(workspace, 'qa.samples.jsonl'), 'utf8').trim().split('\n').length === samplesBefore + 1, {
    message: 'one completion appended to qa.samples.jsonl',
  });
  await screenshot('added-to-samples');

  let events = readEvents();
  assert.equal(events.at(-1).event, 'end');
  assert.equal(events.at(-1).status, 'stopped');
  const checkpoint = events.find((e) => e.event === 'checkpoint');
  assert.ok(checkpoint && existsSync(checkpoint.path), 'a checkpoint was saved on stop');
  assert.ok(events.some((e) => e.event === 'log' && 'rewards/emoji_reward/mean' in e.metrics));
  const stoppedAt = events.at(-1).step;

  // Resume from the palette: the same run continues from its checkpoint, the step count going on.
  await frame.locator('vscode-tab-header', { hasText: 'Charts' }).click();
  await runCommand('GRPO: Resume Run');
  frame = await findFrame('figure.chart-card[data-key="reward"]', { timeoutMs: 60000 });
  await waitFor(async () => /running/.test((await frame.locator('.runs .status').first().textContent()) ?? ''), {
    timeoutMs: 60000,
    message: 'the resumed run is running',
  });
  await waitFor(async () => (await stepShown()) >= stoppedAt + 2, {
    timeoutMs: 120000,
    message: 'the resumed run logs steps after the checkpoint',
  });
  await screenshot('resumed');
  await runCommand('GRPO: Stop Run (save a checkpoint)');
  await waitFor(async () => /stopped/.test((await frame.locator('.runs .status').first().textContent()) ?? ''), {
    timeoutMs: 60000,
    message: 'the resumed run stopped',
  });
  events = readEvents();
  const starts = events.filter((e) => e.event === 'start');
  assert.equal(starts.length, 2, 'the resume appended to the same run');
  assert.equal(starts[1].resumed_from?.step, stoppedAt);
  const logged = events.filter((e) => e.event === 'log').map((e) => e.step);
  assert.deepEqual(
    logged,
    logged.map((_, i) => i + 1),
    'every step logged once, in order',
  );
  assert.ok(logged.at(-1) > stoppedAt + 1);
}
