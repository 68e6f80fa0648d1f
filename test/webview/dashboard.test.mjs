// The training Dashboard webview in a real Chromium, under the extension's strict CSP, fed the
// messages the host sends (reset, events, status) and checked on what it posts back.
// Run: node --test test/webview/dashboard.test.mjs (Debian's /usr/bin/chromium, apt-installed when missing).
// The last test prints timings (first chart for a 100,000-row history, cost of a live event); it
// asserts none of them: `npm run bench` reports them against their goals.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as esbuild from 'esbuild';
import { chromium } from 'playwright-core';
import { ensureChromium } from '../../scripts/setup-code-server.mjs';
import { bundleHostModules, startPageServer } from './pageServer.mjs';
import { webviewBuild } from '../../webview/build.mjs';

const root = new URL('../..', import.meta.url).pathname;
const screenshots = join(root, 'test-results', 'webview');
const VIEWPORT = { width: 1100, height: 900 };

let outdir;
let host; // html.ts, dashboardProtocol.ts and decimate.ts, bundled for Node
let server;
let origin;
let browser;

/**
 * A GRPO run's events.jsonl as the runner writes it: `start`, then one `log` per step with the
 * metrics GRPOTrainer logs (plus `extra` keys), a `completions` event every `completionsEvery`
 * steps. Self-contained: it also runs inside the page (the 100,000-row history is built there).
 */
function trainingEvents({
  steps,
  firstStep = 1,
  seed = 1,
  start = 1_760_000_000,
  maxSteps = steps,
  extra = [],
  completionsEvery = 0,
  withStart = true,
}) {
  let state = seed * 7919;
  const noise = () => (state = (state * 16807) % 2147483647) / 2147483647 - 0.5;
  const events = withStart ? [{ event: 'start', time: start, max_steps: maxSteps, config: {} }] : [];
  const answers = ['日本の首都は東京です🗼✨', 'Tokyo 🇯🇵', '首都は東京。👍🏽 人口も多いです😊😊', '東京', '3776メートルです🗻', '約3776m'];
  for (let step = firstStep; step < firstStep + steps; step++) {
    const progress = step / maxSteps;
    const emoji = Math.min(4, 4 * progress * (1 + seed * 0.3)) + noise() * 0.5;
    const length = 0.4 + 0.3 * progress + noise() * 0.1;
    const metrics = {
      loss: 0.02 * noise(),
      grad_norm: 0.5 + noise() * 0.2,
      learning_rate: 1e-6 * (1 - progress),
      num_tokens: step * 4096,
      'completions/mean_length': 40 + 20 * noise(),
      'completions/min_length': 5 + noise(),
      'completions/max_length': 256 - Math.abs(noise()) * 10,
      'completions/clipped_ratio': Math.abs(noise()) * 0.2,
      'completions/mean_terminated_length': 35 + 10 * noise(),
      'completions/min_terminated_length': 5,
      'completions/max_terminated_length': 200 + 10 * noise(),
      'rewards/emoji_reward/mean': emoji,
      'rewards/emoji_reward/std': 1 + noise() * 0.2,
      'rewards/length_reward/mean': length,
      'rewards/length_reward/std': 0.2 + noise() * 0.05,
      reward: emoji + length,
      reward_std: 1.1 + noise() * 0.2,
      frac_reward_zero_std: Math.max(0, 0.3 - progress * 0.3 + noise() * 0.05),
      kl: 0.001 * step ** 0.5 * (1 + noise() * 0.1),
      entropy: 1.2 - 0.4 * progress + noise() * 0.05,
      'clip_ratio/region_mean': 0,
      'clip_ratio/low_mean': 0,
      'clip_ratio/low_min': 0,
      'clip_ratio/high_mean': 0,
      'clip_ratio/high_max': 0,
      step_time: 2.5 + noise() * 0.3,
      epoch: progress,
    };
    for (const key of extra) metrics[key] = Math.sin(step / 5) + noise() * 0.1;
    events.push({ event: 'log', step, time: start + step * 2.5, metrics });
    if (completionsEvery && step % completionsEvery === 0) {
      const rows = answers.map((completion, i) => ({
        prompt: i < 4 ? '日本の首都はどこですか？' : [{ role: 'user', content: '富士山の高さは？' }],
        completion: i < 4 ? completion : [{ role: 'assistant', content: completion }],
        rewards: {
          emoji_reward: Math.min(4, (completion.match(/\p{Extended_Pictographic}/gu) ?? []).length),
          length_reward: i === 3 ? null : 0.5,
        },
        advantage: (i - 2.5) / 2,
      }));
      events.push({ event: 'completions', step, rows });
    }
  }
  return events;
}

/** Before any page script: a fake VS Code API that records posted messages and state, and a CSP violation log. */
function installFakeVsCodeApi() {
  window.__posted = [];
  window.__violations = [];
  window.__state = undefined;
  // Added before the page's own listener: when a message starts being handled (for the timings).
  window.addEventListener('message', () => (window.__messageStart = performance.now()));
  window.acquireVsCodeApi = () => ({
    postMessage: (message) => window.__posted.push(message),
    getState: () => window.__state,
    setState: (next) => {
      window.__state = next;
    },
  });
  document.addEventListener('securitypolicyviolation', (event) => {
    window.__violations.push(`${event.violatedDirective} blocked ${event.blockedURI || event.sourceFile}: ${event.sample}`);
  });
}

const RUN = { id: '/runs/full', name: 'full', status: 'running' };
const LORA = { id: '/runs/lora', name: 'LoRA r=16', status: 'running' };

async function openDashboard({ runs = [RUN], strings } = {}) {
  const page = await browser.newPage({ viewport: VIEWPORT });
  const consoleErrors = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(String(error)));
  await page.addInitScript(installFakeVsCodeApi);
  await page.goto(origin);
  await page.waitForFunction(() => window.__posted.some((m) => m.type === 'ready'));
  // Resolves once the page has handled the message (a second one, behind it in the same queue, has
  // arrived) and drawn what it changed (the charts draw in the next animation frames).
  const post = async (message) => {
    await page.evaluate(
      (m) =>
        new Promise((resolve) => {
          window.addEventListener('message', function synced(event) {
            if (event.data?.type !== 'test-sync') return;
            window.removeEventListener('message', synced);
            resolve();
          });
          window.postMessage(m, '*');
          window.postMessage({ type: 'test-sync' }, '*');
        }),
      message,
    );
    await nextFrame(page, 4);
  };
  await post({ type: 'reset', runs, ...(strings ? { strings } : {}) });
  await page.locator('.runs .run').first().waitFor();
  const posted = () => page.evaluate(() => window.__posted);
  const assertClean = async () => {
    assert.deepEqual(await page.evaluate(() => window.__violations), [], 'CSP violations');
    assert.deepEqual(consoleErrors, [], 'console errors');
  };
  return { page, post, posted, assertClean };
}

const card = (page, key) => page.locator(`.chart-card[data-key="${key}"]`);
const chartImage = (page, key) =>
  card(page, key)
    .locator('canvas')
    .evaluate((canvas) => canvas.toDataURL());
const nextFrame = (page, frames = 2) =>
  page.evaluate(async (n) => {
    for (let i = 0; i < n; i++) await new Promise((resolve) => requestAnimationFrame(resolve));
  }, frames);

/** How many pixels of the canvas are close to `hex` (a run's line color). */
function countColor(page, key, hex) {
  return card(page, key)
    .locator('canvas')
    .evaluate((canvas, target) => {
      const [r, g, b] = [1, 3, 5].map((i) => parseInt(target.slice(i, i + 2), 16));
      const copy = document.createElement('canvas');
      [copy.width, copy.height] = [canvas.width, canvas.height];
      const context = copy.getContext('2d', { willReadFrequently: true });
      context.drawImage(canvas, 0, 0);
      const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
      let n = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] > 200 && Math.abs(data[i] - r) + Math.abs(data[i + 1] - g) + Math.abs(data[i + 2] - b) < 40) n++;
      }
      return n;
    }, hex);
}

/** The reward chart's image after the events arrive in these batches, on a fresh page. */
async function rewardChartAfter(batches) {
  const { page, post, assertClean } = await openDashboard();
  for (const batch of batches) await post({ type: 'events', runId: RUN.id, events: batch });
  await card(page, 'reward').waitFor();
  await nextFrame(page);
  const image = await chartImage(page, 'reward');
  await assertClean();
  await page.close();
  return image;
}

before(async () => {
  outdir = mkdtempSync(join(tmpdir(), 'dashboard-'));
  mkdirSync(screenshots, { recursive: true });
  await esbuild.build({ ...webviewBuild(), absWorkingDir: root, outdir, logLevel: 'warning' });
  host = await bundleHostModules(outdir, [
    "export { parseDashboardMessage, LIMITS } from './src/training/core/dashboardProtocol.ts';",
    "export { Decimator } from './webview/dashboard/decimate.ts';",
  ]);
  ({ origin, server } = await startPageServer({ host, outdir, bundle: 'dashboard', title: 'GRPO Dashboard' }));
  browser = await chromium.launch({
    executablePath: await ensureChromium(),
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
});

after(async () => {
  await browser?.close();
  server?.close();
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

test('draws the history, then live batches; every metric that arrives gets a chart, grouped by prefix', async () => {
  const { page, post, assertClean } = await openDashboard();
  const history = trainingEvents({ steps: 60, maxSteps: 100, extra: ['emoji_count', 'env/success_rate'] });
  history[0].max_steps = null; // epochs decide the length: train_begin tells it
  history.splice(1, 0, { event: 'train_begin', step: 0, max_steps: 100 });
  const evaluation = { eval_loss: 0.01, 'eval_rewards/emoji_reward/mean': 1.5, eval_runtime: null };
  history.push({ event: 'eval', step: 60, metrics: evaluation }, { event: 'checkpoint', step: 60, path: '/runs/full/checkpoint-60' });
  await post({ type: 'events', runId: RUN.id, events: history });
  await card(page, 'reward').waitFor();

  const keys = await page.locator('.chart-card').evaluateAll((cards) => cards.map((c) => c.dataset.key));
  const logged = [...Object.keys(history[2].metrics), 'eval_loss', 'eval_rewards/emoji_reward/mean'];
  assert.deepEqual([...keys].sort(), [...logged].sort(), 'one chart per logged key (a null value is no point), no more');
  const sections = await page.locator('.metric-section').evaluateAll((s) => s.map((e) => e.dataset.section));
  assert.deepEqual(sections, ['rewards', 'training', 'completions', 'clip_ratio', 'eval', 'env', 'other']);
  assert.deepEqual(keys.slice(0, 4), ['reward', 'reward_std', 'frac_reward_zero_std', 'rewards/emoji_reward/mean']);
  assert.ok(
    keys.indexOf('loss') < keys.indexOf('kl') && keys.indexOf('kl') < keys.indexOf('entropy'),
    'known metrics in their usual order',
  );
  assert.equal(await page.locator('[data-section="other"] .chart-card').getAttribute('data-key'), 'emoji_count');
  assert.equal(await page.locator('[data-section="env"] h2').textContent(), 'env');
  assert.match(await page.locator('.run .progress-label').textContent(), /step 60 \/ 100/);
  await page.screenshot({ path: join(screenshots, 'dashboard-history.png') });

  // Off-screen charts are drawn when scrolled to (Chart.js marks a canvas it has set up with an expando).
  const isDrawn = (key) =>
    card(page, key)
      .locator('canvas')
      .evaluate((canvas) => '$chartjs' in canvas);
  assert.equal(await isDrawn('emoji_count'), false, 'not drawn while far below the viewport');
  await card(page, 'emoji_count').scrollIntoViewIfNeeded();
  await nextFrame(page, 4);
  assert.equal(await isDrawn('emoji_count'), true);
  await page.screenshot({ path: join(screenshots, 'dashboard-other-metrics.png') });
  await page.evaluate(() => window.scrollTo(0, 0));
  await nextFrame(page);

  const before = await chartImage(page, 'reward');
  const live = trainingEvents({
    steps: 5,
    firstStep: 61,
    maxSteps: 100,
    withStart: false,
    extra: ['emoji_count', 'env/success_rate', 'late_metric'],
  });
  for (const event of live) await post({ type: 'events', runId: RUN.id, events: [event] });
  await card(page, 'late_metric').waitFor();
  assert.ok((await chartImage(page, 'reward')) !== before, 'the live points are drawn');
  assert.match(await page.locator('.run .progress-label').textContent(), /step 65 \/ 100/);
  assert.equal(await page.locator('[data-section="other"] .chart-card').count(), 2, 'a metric first seen live gets its chart');

  await post({ type: 'events', runId: RUN.id, events: [{ event: 'stop_requested' }] });
  assert.match(await page.locator('.run .status').textContent(), /stopping/);
  await post({ type: 'events', runId: RUN.id, events: [{ event: 'end', status: 'stopped' }] });
  assert.equal(await page.locator('.run .status').textContent(), 'stopped');
  assert.ok(await page.locator('.run vscode-button.stop').isHidden());
  await assertClean();
  await page.close();
});

test('overlays two runs, one color each (LoRA vs full)', async () => {
  const { page, post, posted, assertClean } = await openDashboard({ runs: [{ ...RUN, status: 'finished' }, LORA] });
  await post({ type: 'events', runId: RUN.id, events: trainingEvents({ steps: 200, seed: 1 }) });
  await post({ type: 'events', runId: LORA.id, events: trainingEvents({ steps: 120, maxSteps: 200, seed: 2, start: 1_760_100_000 }) });
  await card(page, 'reward').waitFor();
  await nextFrame(page);
  // Dark Modern's charts.blue and charts.orange: the first and second run.
  assert.ok((await countColor(page, 'reward', '#3794ff')) > 50, 'the full run is drawn in blue');
  assert.ok((await countColor(page, 'reward', '#d18616')) > 50, 'the LoRA run is drawn in orange');
  const swatches = await page.locator('.run .swatch').evaluateAll((s) => s.map((e) => getComputedStyle(e).backgroundColor));
  assert.deepEqual(swatches, ['rgb(55, 148, 255)', 'rgb(209, 134, 22)']);
  assert.deepEqual(await page.locator('.run .status').allTextContents(), ['finished', 'running']);
  assert.equal(await page.locator('.run[data-run="/runs/full"] vscode-button.stop').isHidden(), true, 'no Stop for a finished run');
  await card(page, 'reward')
    .locator('canvas')
    .hover({ position: { x: 150, y: 80 } });
  await nextFrame(page);
  await page.screenshot({ path: join(screenshots, 'dashboard-two-runs.png') });
  // Exported, the chart carries a legend: one more header row than a single run's.
  await card(page, 'reward').locator('button.save-png').click();
  const png = Buffer.from((await posted()).at(-1).dataUrl.split(',')[1], 'base64');
  writeFileSync(join(screenshots, 'dashboard-two-runs-export.png'), png);
  const canvasHeight = await card(page, 'reward')
    .locator('canvas')
    .evaluate((c) => c.clientHeight);
  assert.ok(png.readUInt32BE(20) > 2 * canvasHeight + 40, 'a title and a legend row above the chart');
  await assertClean();
  await page.close();
});

test('Compare Runs shows the settings that differ between the runs, one column each', async () => {
  const { page, post, assertClean } = await openDashboard({ runs: [{ ...RUN, status: 'finished' }, LORA] });
  const withConfig = (events, config) => events.map((e) => (e.event === 'start' ? { ...e, config } : e));
  const shared = { model: { model_name_or_path: 'SakanaAI/TinySwallow-1.5B-Instruct' }, datasets: ['qa.jsonl'] };
  await post({
    type: 'events',
    runId: RUN.id,
    events: withConfig(trainingEvents({ steps: 20, seed: 1 }), { ...shared, training: { learning_rate: 1e-6, beta: 0.04 } }),
  });
  assert.equal(await page.locator('vscode-tab-header', { hasText: 'Settings' }).count(), 1, 'a Settings tab with several runs');
  await page.locator('vscode-tab-header', { hasText: 'Settings' }).click();
  await page.getByText('Waiting for the settings of every run').waitFor();
  await post({
    type: 'events',
    runId: LORA.id,
    events: withConfig(trainingEvents({ steps: 20, seed: 2 }), {
      ...shared,
      training: { learning_rate: 1e-5, beta: 0.04 },
      model: { ...shared.model, use_peft: true, lora_r: 16 },
    }),
  });
  const rows = page.locator('.settings-diff tbody tr');
  await rows.first().waitFor();
  const table = await rows.evaluateAll((trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent)));
  assert.deepEqual(table, [
    ['model.lora_r', '—', '16'],
    ['model.use_peft', '—', 'true'],
    ['training.learning_rate', '0.000001', '0.00001'],
  ]);
  assert.match(await page.locator('.settings-diff p').textContent(), /3 settings differ/);
  await page.screenshot({ path: join(screenshots, 'dashboard-settings-diff.png') });
  await assertClean();
  await page.close();
});

test('smoothing and the x axis redraw the charts and are remembered', async () => {
  const { page, post, assertClean } = await openDashboard();
  await post({ type: 'events', runId: RUN.id, events: trainingEvents({ steps: 300 }) });
  await card(page, 'reward').waitFor();
  const smoothed = await chartImage(page, 'reward');

  await page.locator('#smoothing').fill('0');
  await nextFrame(page);
  assert.equal(await page.locator('.smoothing-value').textContent(), '0.00');
  const raw = await chartImage(page, 'reward');
  assert.ok(raw !== smoothed, 'smoothing 0 draws the raw values');
  await page.locator('#smoothing').fill('0.95');
  await nextFrame(page);
  assert.ok((await chartImage(page, 'reward')) !== raw);
  assert.equal((await page.evaluate(() => window.__state)).smoothing, 0.95);

  await page.locator('#x-axis').click();
  await page.locator('#x-axis li.option', { hasText: 'Relative time' }).click();
  await nextFrame(page);
  const relative = await chartImage(page, 'reward');
  assert.equal((await page.evaluate(() => window.__state)).axis, 'relative');
  await page.screenshot({ path: join(screenshots, 'dashboard-relative-time.png') });
  await page.locator('#x-axis').click();
  await page.locator('#x-axis li.option', { hasText: 'Step' }).click();
  await nextFrame(page);
  assert.ok((await chartImage(page, 'reward')) !== relative, 'step and time ticks differ');
  await assertClean();
  await page.close();
});

test('a history fed one event at a time draws what it draws in one batch (the first lone point loses its dot)', async () => {
  const events = trainingEvents({ steps: 6, maxSteps: 300 });
  assert.ok((await rewardChartAfter([events])) === (await rewardChartAfter(events.map((event) => [event]))));
});

test('a long run fed live, step by step, looks as it does drawn from its whole history (moves under half a pixel are not redrawn)', async () => {
  // 300 buckets of 128 rows each: the 100 live rows land in one last bucket, whose mean moves less and less.
  const history = 300 * 128;
  const events = trainingEvents({ steps: history + 100, maxSteps: history + 100 });
  const images = [
    await rewardChartAfter([events]),
    await rewardChartAfter([events.slice(0, history + 1), ...events.slice(history + 1).map((event) => [event])]),
  ];
  const { page } = await openDashboard();
  const { differing, total } = await page.evaluate(async ([a, b]) => {
    const pixels = async (url) => {
      const image = new Image();
      image.src = url;
      await image.decode();
      const canvas = Object.assign(document.createElement('canvas'), { width: image.width, height: image.height });
      const context = canvas.getContext('2d', { willReadFrequently: true });
      context.drawImage(image, 0, 0);
      return context.getImageData(0, 0, image.width, image.height).data;
    };
    const [p, q] = await Promise.all([pixels(a), pixels(b)]);
    let differing = 0;
    for (let i = 0; i < p.length; i += 4)
      if (Math.abs(p[i] - q[i]) + Math.abs(p[i + 1] - q[i + 1]) + Math.abs(p[i + 2] - q[i + 2]) + Math.abs(p[i + 3] - q[i + 3]) > 96)
        differing++;
    return { differing, total: p.length / 4 };
  }, images);
  await page.close();
  assert.ok(differing <= 5, `${differing} of ${total} pixels differ`);
});

test('a session resumed after a crash replaces the steps logged after its checkpoint (live and in the history)', async () => {
  // The crashed session logged steps 1-10 and checkpointed at 6; the resumed one re-runs 7-12 with other values.
  const crashed = trainingEvents({ steps: 10, maxSteps: 12, seed: 1 });
  const resumedStart = {
    event: 'start',
    time: 1_760_000_100,
    max_steps: 12,
    config: {},
    resumed_from: { checkpoint: '/runs/full/checkpoint-6', step: 6 },
  };
  const replayed = trainingEvents({ steps: 6, firstStep: 7, maxSteps: 12, seed: 3, withStart: false });
  const kept = crashed.filter((e) => e.event !== 'log' || e.step <= 6);
  const expected = await rewardChartAfter([[...kept, ...replayed]]);
  assert.ok(
    (await rewardChartAfter([[...crashed, resumedStart, ...replayed]])) === expected,
    "the history: the replayed steps replace the crashed session's",
  );
  assert.ok(
    (await rewardChartAfter([crashed, [resumedStart], replayed])) === expected,
    'live: the chart is redrawn without the superseded points',
  );
});

test('completions table: emoji highlighted, filter, and Add to samples posts the selected rows', async () => {
  const { page, post, posted, assertClean } = await openDashboard();
  await post({ type: 'events', runId: RUN.id, events: trainingEvents({ steps: 20, completionsEvery: 10 }) });
  await page.locator('vscode-tab-header', { hasText: 'Completions' }).click();
  await page.locator('table.completions tbody tr').first().waitFor();
  assert.equal(await page.locator('table.completions tbody tr').count(), 12);
  assert.deepEqual(await page.locator('table.completions thead th').allTextContents(), [
    '',
    'run',
    'step',
    'prompt',
    'completion',
    'emoji_reward',
    'length_reward',
    'advantage',
  ]);
  assert.equal(await page.locator('table.completions tbody tr').first().locator('td').nth(2).textContent(), '20', 'newest step first');
  const emoji = await page.locator('table.completions .emoji').allTextContents();
  for (const expected of ['🗼', '✨', '🇯🇵', '👍🏽', '🗻']) assert.ok(emoji.includes(expected), `${expected} highlighted`);
  assert.equal(await page.locator('table.completions tbody tr td.none').first().textContent(), 'None');

  await page.locator('#completion-filter input').fill('東京');
  assert.equal(await page.locator('table.completions tbody tr:visible').count(), 6);
  await page.locator('table.completions tbody tr:visible input[type=checkbox]').nth(0).check();
  await page.locator('table.completions tbody tr:visible input[type=checkbox]').nth(1).check();
  assert.equal(await page.locator('#add-to-samples').textContent(), 'Add 2 to samples');
  await page.screenshot({ path: join(screenshots, 'dashboard-completions.png') });
  await page.locator('#add-to-samples').click();
  const message = (await posted()).at(-1);
  assert.deepEqual(message, {
    type: 'addToSamples',
    rows: [
      { prompt: '日本の首都はどこですか？', completion: '日本の首都は東京です🗼✨' },
      { prompt: '日本の首都はどこですか？', completion: '首都は東京。👍🏽 人口も多いです😊😊' },
    ],
  });
  assert.deepEqual(host.parseDashboardMessage(message), message, 'the host accepts it');
  assert.equal(await page.locator('#add-to-samples').textContent(), 'Add to samples', 'the selection is cleared');

  await page.locator('#completion-filter input').fill('富士山');
  await page.locator('#select-all').check();
  await page.locator('#add-to-samples').click();
  const conversational = (await posted()).at(-1);
  assert.equal(conversational.rows.length, 4, 'select all takes the shown rows only');
  assert.deepEqual(conversational.rows[0], {
    prompt: [{ role: 'user', content: '富士山の高さは？' }],
    completion: [{ role: 'assistant', content: '3776メートルです🗻' }],
  });
  assert.equal((await page.evaluate(() => window.__state)).filter, '富士山');

  // The charts tab is hidden: what arrives meanwhile is drawn when it is shown again.
  const hidden = await chartImage(page, 'reward');
  await post({ type: 'events', runId: RUN.id, events: trainingEvents({ steps: 10, firstStep: 21, maxSteps: 30, withStart: false }) });
  assert.ok((await chartImage(page, 'reward')) === hidden, 'not redrawn while hidden');
  await page.locator('vscode-tab-header', { hasText: 'Charts' }).click();
  await nextFrame(page, 4);
  assert.ok((await chartImage(page, 'reward')) !== hidden, 'drawn when shown');
  assert.equal((await page.evaluate(() => window.__state)).tab, 0);
  await assertClean();
  await page.close();
});

test('a ticked completion stays in the table, and is added, after 200 newer rows arrive', async () => {
  const { page, post, posted, assertClean } = await openDashboard();
  await post({ type: 'events', runId: RUN.id, events: trainingEvents({ steps: 10, completionsEvery: 10 }) });
  await page.locator('vscode-tab-header', { hasText: 'Completions' }).click();
  const first = page.locator('table.completions tbody tr').first();
  await first.waitFor();
  const ticked = await first.locator('div.completion').getAttribute('title');
  await first.locator('input[type=checkbox]').check();
  // Live steps push more than the 200 rows the table keeps.
  const later = trainingEvents({ steps: 400, completionsEvery: 10 }).filter((e) => e.step > 10 && e.event !== 'start');
  await post({ type: 'events', runId: RUN.id, events: later });
  await page.locator('#add-to-samples').click();
  const message = (await posted()).at(-1);
  assert.equal(message.type, 'addToSamples');
  assert.equal(message.rows.length, 1);
  const { completion } = message.rows[0];
  const text = typeof completion === 'string' ? completion : completion.map((m) => m.content).join('\n');
  assert.equal(text, ticked, 'the row ticked before it scrolled out');
  await assertClean();
  await page.close();
});

test('Export PNG posts a PNG data URL; Stop and Export CSV post the run', async () => {
  const { page, post, posted, assertClean } = await openDashboard();
  await post({ type: 'events', runId: RUN.id, events: trainingEvents({ steps: 50 }) });
  await card(page, 'rewards/emoji_reward/mean').hover();
  await card(page, 'rewards/emoji_reward/mean').locator('button.save-png').click();
  const png = (await posted()).at(-1);
  assert.equal(png.type, 'savePng');
  assert.equal(png.name, 'rewards_emoji_reward_mean.png');
  assert.match(png.dataUrl, /^data:image\/png;base64,[A-Za-z0-9+/]+=*$/);
  assert.ok(png.dataUrl.length > 5000, 'a drawn chart, not an empty canvas');
  // The PNG's IHDR: width and height at bytes 16-23.
  const ihdr = Buffer.from(png.dataUrl.slice(png.dataUrl.indexOf(',') + 1), 'base64');
  const shown = await card(page, 'rewards/emoji_reward/mean')
    .locator('canvas')
    .evaluate((c) => c.clientWidth);
  assert.ok(ihdr.readUInt32BE(16) >= 2 * shown, `exported at twice the ${shown} px on screen at least (${ihdr.readUInt32BE(16)} px)`);
  const after = await card(page, 'rewards/emoji_reward/mean')
    .locator('canvas')
    .evaluate((c) => c.width / c.clientWidth);
  assert.equal(after, await page.evaluate(() => window.devicePixelRatio), 'the chart on screen is back at the screen resolution');
  assert.deepEqual(host.parseDashboardMessage(png), png, 'the host accepts it');

  await page.locator('.run vscode-button.stop').click();
  await page.locator('.run vscode-button.export-csv').click();
  assert.deepEqual((await posted()).slice(-2), [
    { type: 'stop', runId: RUN.id },
    { type: 'exportCsv', runId: RUN.id },
  ]);
  await post({ type: 'status', runId: RUN.id, status: 'finished', step: 50, maxSteps: 50 });
  assert.equal(await page.locator('.run .status').textContent(), 'finished');
  assert.ok(await page.locator('.run vscode-button.stop').isHidden());
  assert.ok(await page.locator('.run vscode-button.resume').isHidden(), 'a finished run has nothing to resume');
  await assertClean();
  await page.close();
});

test('a running run shows its ETA; a stopped one started here has Resume, one made elsewhere none', async () => {
  const { page, post, posted, assertClean } = await openDashboard({
    runs: [
      { ...RUN, resumable: true },
      { ...LORA, resumable: false },
    ],
  });
  await post({ type: 'events', runId: RUN.id, events: trainingEvents({ steps: 10, maxSteps: 100 }) });
  await post({ type: 'status', runId: RUN.id, status: 'running', step: 10, maxSteps: 100, eta: 200 });
  const progress = page.locator('.run[data-run="/runs/full"] .progress-label');
  assert.equal(await progress.textContent(), 'step 10 / 100 · ETA 3m 20s');
  await post({ type: 'status', runId: RUN.id, status: 'stopped', step: 10, maxSteps: 100 });
  await post({ type: 'status', runId: LORA.id, status: 'stopped', step: 4, maxSteps: 100 });
  assert.equal(await progress.textContent(), 'step 10 / 100', 'no ETA once stopped');
  const resume = page.locator('.run[data-run="/runs/full"] vscode-button.resume');
  assert.ok(await resume.isVisible());
  assert.ok(
    await page.locator('.run[data-run="/runs/lora"] vscode-button.resume').isHidden(),
    'a TRL folder made elsewhere is not resumed from here',
  );
  await resume.click();
  assert.deepEqual((await posted()).at(-1), { type: 'resume', runId: RUN.id });
  assert.deepEqual(host.parseDashboardMessage({ type: 'resume', runId: RUN.id, x: 1 }), { type: 'resume', runId: RUN.id });
  await assertClean();
  await page.close();
});

test('a failed run shows why in its header: the traceback of its end event, or the cause the host gives for a runner that died', async () => {
  const { page, post, assertClean } = await openDashboard({ runs: [RUN, LORA] });
  const traceback = 'Traceback (most recent call last):\n  File "x.py", line 3\nFileNotFoundError: data/none.jsonl';
  await post({
    type: 'events',
    runId: RUN.id,
    events: [...trainingEvents({ steps: 5 }), { event: 'end', time: 1_760_000_900, status: 'failed', step: 5, error: traceback }],
  });
  await post({ type: 'events', runId: LORA.id, events: trainingEvents({ steps: 5 }) });
  await post({
    type: 'status',
    runId: LORA.id,
    status: 'failed',
    step: 5,
    error: 'the runner stopped without an end event (killed or crashed); see runner.log',
  });
  const cause = (id) => page.locator(`.run[data-run="${id}"] .cause`);
  await cause(RUN.id).waitFor();
  assert.equal(await cause(RUN.id).textContent(), 'Failed: FileNotFoundError: data/none.jsonl');
  assert.equal(await cause(RUN.id).getAttribute('title'), traceback, 'the whole traceback on hover');
  assert.equal(await cause(LORA.id).textContent(), 'Failed: the runner stopped without an end event (killed or crashed); see runner.log');
  await post({ type: 'status', runId: LORA.id, status: 'running', step: 6 });
  assert.ok(await cause(LORA.id).isHidden(), 'a resumed run no longer shows the old cause');
  await page.screenshot({ path: join(screenshots, 'dashboard-failed-cause.png') });
  await assertClean();
  await page.close();
});

test('follows the theme: light and dark', async () => {
  const { page, post, assertClean } = await openDashboard({ runs: [{ ...RUN, status: 'finished' }, LORA] });
  await post({ type: 'events', runId: RUN.id, events: trainingEvents({ steps: 150, seed: 1 }) });
  await post({ type: 'events', runId: LORA.id, events: trainingEvents({ steps: 150, seed: 3 }) });
  await card(page, 'reward').waitFor();
  const dark = await chartImage(page, 'reward');
  await page.evaluate(() => document.body.classList.replace('vscode-dark', 'vscode-light'));
  await nextFrame(page);
  assert.equal(await page.evaluate(() => getComputedStyle(document.body).backgroundColor), 'rgb(255, 255, 255)');
  assert.ok((await chartImage(page, 'reward')) !== dark, 'redrawn in the light colors');
  assert.ok((await countColor(page, 'reward', '#1a85ff')) > 50, "Light Modern's charts.blue");
  await page.screenshot({ path: join(screenshots, 'dashboard-light.png') });
  await assertClean();
  await page.close();
});

test('shows its strings in the language of the bundle the host sends', async () => {
  const ja = JSON.parse(readFileSync(join(root, 'l10n', 'bundle.l10n.ja.json'), 'utf8'));
  const { page, post, assertClean } = await openDashboard({ strings: ja });
  await post({ type: 'events', runId: RUN.id, events: trainingEvents({ steps: 40, maxSteps: 100, completionsEvery: 20 }) });
  await card(page, 'reward').waitFor();
  const text = await page.locator('body').textContent();
  for (const expected of ['報酬', 'スムージング', '実行中', 'ステップ 40 / 100', 'CSV をエクスポート'])
    assert.ok(text.includes(expected), expected);
  assert.equal(await page.locator('vscode-tab-header').first().textContent(), 'グラフ');
  await page.screenshot({ path: join(screenshots, 'dashboard-japanese.png') });
  await page.locator('vscode-tab-header').nth(1).click();
  await page.locator('table.completions tbody tr').first().waitFor();
  assert.equal(await page.locator('#add-to-samples').textContent(), 'サンプルに追加');
  await page.screenshot({ path: join(screenshots, 'dashboard-japanese-completions.png') });
  await assertClean();
  await page.close();
});

test('the host rejects malformed or oversized webview messages', () => {
  const png = 'data:image/png;base64,iVBORw0KGgo=';
  const bad = [
    null,
    'ready',
    { type: 'nope' },
    { type: 'stop' },
    { type: 'stop', runId: '' },
    { type: 'exportCsv', runId: 42 },
    { type: 'stop', runId: 'x'.repeat(host.LIMITS.id + 1) },
    { type: 'savePng', name: 'reward.png', dataUrl: 'data:image/svg+xml;base64,PHN2Zz4=' },
    { type: 'savePng', name: 'reward.png', dataUrl: 'data:image/png;base64,<script>' },
    { type: 'savePng', name: '../reward.png', dataUrl: png },
    { type: 'savePng', name: '..', dataUrl: png },
    { type: 'savePng', name: 'x'.repeat(host.LIMITS.fileName + 1), dataUrl: png },
    { type: 'savePng', name: 'reward.png', dataUrl: `data:image/png;base64,${'A'.repeat(host.LIMITS.dataUrl)}` },
    { type: 'addToSamples', rows: [] },
    { type: 'addToSamples', rows: 'prompt' },
    { type: 'addToSamples', rows: [{ prompt: 'q' }] },
    { type: 'addToSamples', rows: [{ prompt: 'q', completion: 42 }] },
    { type: 'addToSamples', rows: [{ prompt: [{ role: 'user' }], completion: 'a' }] },
    { type: 'addToSamples', rows: [{ prompt: 'q', completion: 'a'.repeat(host.LIMITS.text + 1) }] },
    { type: 'addToSamples', rows: Array.from({ length: host.LIMITS.sampleRows + 1 }, () => ({ prompt: 'q', completion: 'a' })) },
  ];
  for (const message of bad) assert.equal(host.parseDashboardMessage(message), undefined, JSON.stringify(message).slice(0, 120));
  assert.deepEqual(host.parseDashboardMessage({ type: 'stop', runId: 'r', extra: 1 }), { type: 'stop', runId: 'r' });
  assert.deepEqual(
    host.parseDashboardMessage({
      type: 'addToSamples',
      rows: [{ prompt: [{ role: 'user', content: 'q', name: 'x' }], completion: 'a', line: 3 }],
    }),
    {
      type: 'addToSamples',
      rows: [{ prompt: [{ role: 'user', content: 'q' }], completion: 'a' }],
    },
  );
});

test('decimation: bounded points, extremes kept, the same whether fed at once or one by one', () => {
  const n = 100_003;
  const ys = Array.from({ length: n }, (_, i) => Math.sin(i / 500) + (i === 31_337 ? 50 : 0) - (i === 77_777 ? 50 : 0));
  const bulk = new host.Decimator('minmax', 300);
  for (let i = 0; i < n; i++) bulk.push(i, ys[i]);
  bulk.flush();
  const live = new host.Decimator('minmax', 300);
  for (let i = 0; i < n; i++) {
    live.push(i, ys[i]);
    if (i % 97 === 0) live.flush();
  }
  live.flush();
  assert.deepEqual(live.points, bulk.points);
  assert.ok(bulk.points.length <= 600, `${bulk.points.length} points`);
  assert.ok(
    bulk.points.every((p, i) => i === 0 || p.x > bulk.points[i - 1].x),
    'in x order',
  );
  assert.deepEqual([bulk.points[0].x, bulk.points.at(-1).x], [0, n - 1], 'first and last points kept');
  assert.ok(bulk.points.some((p) => p.x === 31_337) && bulk.points.some((p) => p.x === 77_777), 'spikes kept');

  const mean = new host.Decimator('mean', 4);
  for (const y of [1, 3, 5, 7, 9, 11, 13, 15, 17]) mean.push(y, y);
  mean.flush();
  // 4 buckets of 1, then 3 of 2, then 2 of 4 and the ninth point alone.
  assert.deepEqual(mean.points, [
    { x: 4, y: 4 },
    { x: 12, y: 12 },
    { x: 17, y: 17 },
  ]);
  const constant = new host.Decimator('mean', 4);
  for (let i = 0; i < 1000; i++) constant.push(i, 0.1);
  constant.flush();
  assert.ok(
    constant.points.every((p) => p.y === 0.1),
    'a constant stays exactly constant (no rounding wobble on an autoscaled axis)',
  );
});

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const percentile = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
const ms = (x) => `${x.toFixed(1)} ms`;

/**
 * Each live batch (one log row; every 10th with 6 completions) is dispatched at the start of a
 * frame; the page's work is its handler plus its painter's time in the frames that follow (the
 * time between a callback queued before the painter and one queued after it).
 */
function measureLive(page, rows, appends) {
  return page.evaluate(
    async ({ source, rows, appends, runId }) => {
      const events = new Function(`return (${source})`)()({
        steps: appends,
        firstStep: rows + 1,
        maxSteps: rows + appends,
        completionsEvery: 10,
        withStart: false,
      });
      const batches = [];
      for (const event of events) {
        if (event.event === 'log') batches.push([event]);
        else batches.at(-1).push(event);
      }
      const FRAMES = 3;
      const results = [];
      for (const batch of batches) {
        await new Promise((resolve) => requestAnimationFrame(resolve));
        const [before, after] = [[], []];
        let handler = 0;
        await new Promise((resolve) => {
          const first = () => {
            before.push(performance.now());
            if (before.length < FRAMES) requestAnimationFrame(first);
          };
          const last = () => {
            after.push(performance.now());
            if (after.length < FRAMES) requestAnimationFrame(last);
            else resolve();
          };
          requestAnimationFrame(first);
          const t0 = performance.now();
          window.dispatchEvent(new MessageEvent('message', { data: { type: 'events', runId, events: batch } }));
          handler = performance.now() - t0;
          requestAnimationFrame(last);
        });
        const paints = after.map((t, i) => t - before[i]);
        results.push({ handler, total: handler + paints.reduce((a, b) => a + b, 0), frame: Math.max(handler, ...paints) });
      }
      return results;
    },
    { source: trainingEvents.toString(), rows, appends, runId: RUN.id },
  );
}

/** Posts a history of `rows` log rows, built in the page, and times its first and last on-screen chart. */
async function timeFirstChart(page, rows) {
  // The history is built in the page: 100,000 rows through the test driver would measure the driver.
  const metricCount = await page.evaluate(
    ({ source, rows }) => {
      window.__history = new Function(`return (${source})`)()({ steps: rows, completionsEvery: 100 });
      return Object.keys(window.__history[1].metrics).length;
    },
    { source: trainingEvents.toString(), rows },
  );
  // Chart.js marks a canvas it has set up with an expando; the page draws it in the same frame.
  const history = await page.evaluate(
    (runId) =>
      new Promise((resolve) => {
        const times = {};
        const onScreen = () => [...document.querySelectorAll('.chart-card')].filter((c) => c.getBoundingClientRect().top < innerHeight);
        const frame = () => {
          const shown = onScreen();
          const drawn = shown.filter((c) => '$chartjs' in c.querySelector('canvas')).length;
          if (drawn > 0) times.first ??= performance.now() - t0;
          if (drawn === shown.length) resolve({ ...times, all: performance.now() - t0, charts: shown.length });
          else requestAnimationFrame(frame);
        };
        // Listeners run in the order they were added: the page's own first, then this one.
        window.addEventListener('message', function handled() {
          window.removeEventListener('message', handled);
          const now = performance.now();
          Object.assign(times, { handled: now - t0, handler: now - window.__messageStart });
          requestAnimationFrame(frame); // after the page's painter, in the same frame
        });
        const t0 = performance.now();
        window.postMessage({ type: 'events', runId, events: window.__history }, '*');
      }),
    RUN.id,
  );
  return { metricCount, history };
}

test('timings: first chart of a 100,000-row history, and the cost of a live event (printed, not asserted)', async () => {
  const { page, assertClean } = await openDashboard();
  const ROWS = 100_000;
  const APPENDS = 200;
  const SHORT_ROWS = 100;
  const HEAD_ROWS = 2000;
  const { metricCount, history } = await timeFirstChart(page, ROWS);
  // What a big TRL output folder sends first: its first 2,000 logged steps (readTrlOutputHead).
  const { page: headPage } = await openDashboard();
  const { history: head } = await timeFirstChart(headPage, HEAD_ROWS);
  await headPage.close();
  await page.screenshot({ path: join(screenshots, 'dashboard-100k.png') });

  const live = await measureLive(page, ROWS, APPENDS);
  // A short run: every step adds a point to every chart, so each one is redrawn.
  const { page: shortPage, post: postShort } = await openDashboard();
  await postShort({ type: 'events', runId: RUN.id, events: trainingEvents({ steps: SHORT_ROWS, completionsEvery: 10 }) });
  await card(shortPage, 'reward').waitFor();
  const liveShort = await measureLive(shortPage, SHORT_ROWS, APPENDS);
  await shortPage.close();
  const summary = (key, results = live) => {
    const xs = results.map((r) => r[key]);
    return { median: median(xs), p95: percentile(xs, 0.95), max: Math.max(...xs) };
  };
  const stats = (key, results = live) => {
    const { median: m, p95, max } = summary(key, results);
    return `median ${ms(m)}, p95 ${ms(p95)}, max ${ms(max)}`;
  };
  const cards = await page.locator('.chart-card').count();
  console.log(
    [
      `dashboard timings (${VIEWPORT.width}×${VIEWPORT.height} viewport, ${metricCount} metrics → ${cards} charts, ${history.charts} on screen):`,
      `  history of ${ROWS.toLocaleString('en-US')} log rows, posted → handled ${ms(history.handled)} (handler ${ms(history.handler)}, the rest is the structured clone)`,
      `    → first chart drawn ${ms(history.first)}, all ${history.charts} on-screen charts ${ms(history.all)}`,
      `  history of ${HEAD_ROWS.toLocaleString('en-US')} log rows (a big TRL folder's head) → first chart drawn ${ms(head.first)}`,
      `  live event, ${APPENDS} appends: total work ${stats('total')}`,
      `    handler ${stats('handler')}; longest single task or frame ${stats('frame')}`,
      `  live event after a ${SHORT_ROWS}-row history (every chart redrawn each step): total work ${stats('total', liveShort)}`,
    ].join('\n'),
  );
  // One line for scripts (npm run bench): everything in ms.
  console.log(
    `DASHBOARD_TIMINGS ${JSON.stringify({ rows: ROWS, metrics: metricCount, ...history, live: { total: summary('total'), handler: summary('handler'), frame: summary('frame') }, shortRows: SHORT_ROWS, liveShort: { total: summary('total', liveShort) }, headRows: HEAD_ROWS, head })}`,
  );
  await assertClean();
  await page.close();
});
