// A run GRPO Studio did not start: a plain `python -m trl.scripts.grpo` run with log_completions,
// made in the workspace before the window opens it. GRPO: Open Run Folder... (typed into the
// file dialog, as a user would) lists it in the Runs view and opens its dashboard: TRL's metrics
// from trainer_state.json in the charts, the completions parquet's rows with their rewards.
// GRPO: Open Trackio Run... then opens a `report_to: trackio` run from its project database.
import { execFileSync } from 'node:child_process';
import { writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { writeTrainerState } from '../../bench/scale.bench.mjs';
import { python, trainingOptions } from './trainingExample.mjs';

export const options = trainingOptions;

function trlGrpo(workspace, { output = 'elsewhere/trl-output', report = ['--report_to', 'tensorboard'], env = {} } = {}) {
  mkdirSync(path.join(workspace, 'trl data'), { recursive: true });
  const rows = ['日本の首都は？', '富士山の高さは？', '桜はいつ咲く？', '寿司のネタは？'].map((q) => JSON.stringify({ prompt: q }));
  writeFileSync(path.join(workspace, 'trl data', 'train.jsonl'), `${rows.join('\n')}\n`);
  // prettier-ignore
  const argv = ['-m', 'trl.scripts.grpo', '--model_name_or_path', 'models/tiny-qwen2', '--dataset_name', 'trl data',
    '--reward_funcs', 'rewards.emoji_reward', 'rewards.length_reward', '--output_dir', output, '--max_steps', '4',
    '--per_device_train_batch_size', '2', '--num_generations', '2', '--max_completion_length', '8', '--use_cpu',
    '--save_steps', '2', '--logging_steps', '1', '--log_completions', ...report];
  execFileSync(python, argv, {
    cwd: workspace,
    env: { ...process.env, HF_HUB_OFFLINE: '1', HF_DATASETS_OFFLINE: '1', TOKENIZERS_PARALLELISM: 'false', ...env },
    stdio: 'ignore',
    timeout: 300000,
  });
  return path.join(workspace, output);
}

export async function run(ctx) {
  const {
    page,
    assert,
    workspace,
    openFile,
    runCommand,
    screenshot,
    waitFor,
    waitForTreeItem,
    waitForNotification,
    findFrame,
    openViewContainer,
  } = ctx;
  const output = trlGrpo(workspace);
  const state = JSON.parse(readFileSync(path.join(output, 'checkpoint-4', 'trainer_state.json'), 'utf8'));
  assert.equal(state.global_step, 4);

  // The extension is up once its lens shows above a run config.
  await openFile('run.tiny.yaml');
  await page.locator('.contentWidgets .codelens-decoration a', { hasText: 'Train' }).first().waitFor({ state: 'visible', timeout: 60000 });

  const input = page.locator('.quick-input-widget input[type="text"], .quick-input-widget input').first();
  const openRunFolder = async (folder) => {
    await runCommand('GRPO: Open Run Folder...');
    await input.waitFor({ state: 'visible' });
    // The dialog fills in the workspace folder once it is up: type over it after that, and check it took.
    await waitFor(async () => /\/$/.test(await input.inputValue()), { message: 'the file dialog shows its starting folder' });
    await waitFor(
      async () => {
        await input.fill(`${folder}/`);
        await page.waitForTimeout(300);
        return (await input.inputValue()) === `${folder}/`;
      },
      { message: 'the run folder typed into the file dialog' },
    );
    await screenshot('open-run-folder-dialog');
    await page.keyboard.press('Enter');
    await page
      .locator('.quick-input-widget .monaco-button', { hasText: /Open Run/ })
      .first()
      .click({ timeout: 3000 })
      .catch(() => page.keyboard.press('Enter'));
  };
  await openRunFolder(output);

  const frame = await findFrame('figure.chart-card[data-key="reward"]', { timeoutMs: 60000 });
  await waitFor(async () => /finished/.test((await frame.locator('.runs .status').first().textContent()) ?? ''), {
    timeoutMs: 30000,
    message: 'the dashboard reads the TRL run as finished',
  });
  await waitFor(async () => /step 4/.test((await frame.locator('.runs .progress-label').first().textContent()) ?? ''), {
    timeoutMs: 30000,
    message: 'the dashboard shows the 4 steps of trainer_state.json',
  });
  assert.equal((await frame.locator('figure.chart-card[data-key="rewards/emoji_reward/mean"], figure.chart-card').count()) > 1, true);
  await screenshot('trl-run-dashboard');

  await frame.locator('vscode-tab-header', { hasText: 'Completions' }).click();
  await waitFor(async () => (await frame.locator('table.completions tbody tr').count()) > 0, {
    timeoutMs: 30000,
    message: 'the completions parquet files fill the table',
  });
  const header = (await frame.locator('table.completions thead').textContent()) ?? '';
  assert.ok(/emoji_reward/.test(header) && /length_reward/.test(header), `the reward columns are shown: ${header}`);
  assert.ok(/日本の首都は|富士山|桜|寿司/.test((await frame.locator('table.completions tbody').textContent()) ?? ''));
  await screenshot('trl-run-completions');

  // Export CSV: the save dialog offers the run's folder; the write is confirmed.
  await frame.locator('.run vscode-button.export-csv').first().click();
  await input.waitFor({ state: 'visible' });
  await waitFor(async () => /metrics\.csv$/.test(await input.inputValue()), { message: 'the save dialog offers metrics.csv' });
  await page.keyboard.press('Enter');
  await waitForNotification('metrics written to', { timeoutMs: 30000 });
  assert.match(readFileSync(path.join(output, 'metrics.csv'), 'utf8'), /^step,/);

  await openViewContainer('GRPO');
  await waitForTreeItem('trl-output');

  // The shareable HTML report, from the editor (what `grpo-studio report` writes).
  await runCommand('GRPO: Export Run Report (HTML)');
  await waitForNotification('report of trl-output written to', { timeoutMs: 30000 });
  const report = readFileSync(path.join(output, 'report.html'), 'utf8');
  assert.ok(
    report.includes('Sample completions (step 4)') && report.includes('rewards/emoji_reward/mean'),
    'the report has the charts and completions',
  );
  await screenshot('report-exported');

  // What report_to: tensorboard wrote, in TensorBoard itself: a terminal running it on the folder.
  await runCommand('GRPO: Open in TensorBoard');
  await waitFor(
    async () =>
      (await page
        .locator('.terminal-tabs-entry, .single-terminal-tab, .pane-header .title', { hasText: 'TensorBoard: trl-output' })
        .count()) > 0 || (await page.locator('[aria-label*="TensorBoard: trl-output"]').count()) > 0,
    {
      timeoutMs: 60000,
      message: 'a terminal running TensorBoard on the run folder',
    },
  );
  await screenshot('tensorboard-terminal');

  // A Trackio run, its project database browsed to (one synced from a cluster, say).
  const trackioDir = path.join(workspace, 'trackio cache');
  trlGrpo(workspace, {
    output: 'elsewhere/tk-output',
    report: ['--report_to', 'trackio', '--project', 'grpo-tk', '--run_name', 'tk-1'],
    env: { TRACKIO_DIR: trackioDir },
  });
  const db = path.join(trackioDir, 'grpo-tk.db');
  await runCommand('GRPO: Open Trackio Run...');
  await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'Browse for a Trackio project' }).first().click();
  await input.waitFor({ state: 'visible' });
  await waitFor(async () => /\/$/.test(await input.inputValue()), { message: 'the file dialog shows its starting folder' });
  await waitFor(
    async () => {
      await input.fill(db);
      await page.waitForTimeout(300);
      return (await input.inputValue()) === db;
    },
    { message: 'the project database typed into the file dialog' },
  );
  await page.keyboard.press('Enter');
  await waitForTreeItem('grpo-tk · tk-1');
  const trackioFrame = await findFrame('.runs:has-text("grpo-tk · tk-1")', { timeoutMs: 60000 });
  await waitFor(async () => /step 4/.test((await trackioFrame.locator('.runs .progress-label').first().textContent()) ?? ''), {
    timeoutMs: 30000,
    message: 'the dashboard shows the 4 steps Trackio logged',
  });
  assert.ok((await trackioFrame.locator('figure.chart-card[data-key="rewards/length_reward/mean"]').count()) === 1);
  await screenshot('trackio-run-dashboard');

  // A long run made elsewhere: 100,000 logged steps in an 80 MB trainer_state.json. Its first steps
  // are charted while the rest is read; then the whole run is there.
  const big = path.join(workspace, 'elsewhere', 'long-run');
  writeTrainerState(big, 100_000);
  await openRunFolder(big);
  const bigFrame = await findFrame('.runs:has-text("long-run")', { timeoutMs: 60000 });
  await bigFrame.locator('vscode-tab-header', { hasText: 'Charts' }).click(); // the last dashboard was left on Completions
  await bigFrame.locator('figure.chart-card[data-key="loss"] canvas').waitFor({ state: 'visible', timeout: 60000 });
  await waitFor(async () => /step 100,?000/.test((await bigFrame.locator('.runs .progress-label').first().textContent()) ?? ''), {
    timeoutMs: 60000,
    message: 'all 100,000 steps arrive after the first chart',
  });
  await screenshot('long-trl-run-dashboard');
}
