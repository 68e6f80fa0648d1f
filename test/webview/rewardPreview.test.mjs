// The Reward Preview webview in a real Chromium, under the extension's strict CSP.
// Run: node --test test/webview/rewardPreview.test.mjs (Debian's /usr/bin/chromium, apt-installed when missing).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
const SAMPLES_FILE = '/workspace/data/qa.samples.jsonl';

let outdir;
let host; // html.ts, rewardPreviewProtocol.ts and advantages.ts, bundled for Node
let server;
let origin;
let browser;

// Two groups of four (emoji_reward, length_reward, and a function that failed). Group 2's
// completions all score the same: no learning signal.
const FUNCTIONS = [
  { name: 'emoji_reward', weight: 1, ms: 0.4 },
  { name: 'length_reward', weight: 1, ms: 0.3 },
  { name: 'format_reward', weight: 1, ms: 0.1, error: "TypeError: format_reward() got an unexpected keyword argument 'completion_ids'" },
];
const GROUPS = [
  {
    prompt: '日本の首都はどこですか？',
    completions: ['日本の首都は東京です🗼✨', 'Tokyo 🇯🇵', '首都は東京。👍🏽 人口も多いです😊😊😊😊😊', '東京'],
  },
  {
    prompt: '富士山の高さは？',
    completions: ['3776メートルです🗻', '約3776m🗻', '3,776 m 🗻', '高さは3776m🗻'],
  },
];

const EMOJI = /\p{Extended_Pictographic}|\p{Regional_Indicator}{2}/gu;
const emojiReward = (text) => Math.min((text.match(EMOJI) ?? []).length, 4);
const lengthReward = (text) => Math.exp(-0.15 * Math.abs(Array.from(text).length - 30));

/** The `update` payload the host would send, with the project's own advantage math. */
function previewData(options = { scaleRewards: 'group', aggregation: 'sum_then_normalize' }) {
  const samples = GROUPS.flatMap((group, g) => group.completions.map((completion) => ({ group: g, prompt: group.prompt, completion })));
  // Group 2: every completion gets the same rewards (a flat group).
  const rewards = samples.map(({ group, completion }) =>
    group === 1 ? [1, 0.5, null] : [emojiReward(completion), lengthReward(completion), null],
  );
  const math = host.computeAdvantages(
    rewards,
    GROUPS.map((g) => g.completions.length),
    { ...options, weights: FUNCTIONS.map((f) => f.weight) },
  );
  return {
    samplesFile: SAMPLES_FILE,
    functions: FUNCTIONS,
    rows: samples.map((sample, i) => ({
      line: i + 1,
      ...sample,
      rewards: rewards[i],
      total: math.totals[i],
      advantage: math.advantages[i],
    })),
    groups: math.groups.map((stats, g) => ({ index: g, size: GROUPS[g].completions.length, ...stats })),
    options,
    notice: 'completion_ids are placeholders: set grpoStudio.preview.tokenizer for real token ids',
  };
}

/** Before any page script: a fake VS Code API that records posted messages, and a CSP violation log. */
function installFakeVsCodeApi() {
  window.__posted = [];
  window.__violations = [];
  let state;
  window.acquireVsCodeApi = () => ({
    postMessage: (message) => window.__posted.push(message),
    getState: () => state,
    setState: (next) => {
      state = next;
    },
  });
  document.addEventListener('securitypolicyviolation', (event) => {
    window.__violations.push(`${event.violatedDirective} blocked ${event.blockedURI || event.sourceFile}: ${event.sample}`);
  });
}

async function openPanel() {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  const consoleErrors = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(String(error)));
  await page.addInitScript(installFakeVsCodeApi);
  await page.goto(origin);
  await page.waitForFunction(() => window.__posted.some((m) => m.type === 'ready'));
  await page.evaluate((data) => window.postMessage({ type: 'update', data }, '*'), previewData());
  await page.locator('tr.sample').first().waitFor();
  const posted = () => page.evaluate(() => window.__posted);
  const assertClean = async () => {
    assert.deepEqual(await page.evaluate(() => window.__violations), [], 'CSP violations');
    assert.deepEqual(consoleErrors, [], 'console errors');
  };
  return { page, posted, assertClean };
}

const columnTexts = (page, column) => page.locator(`tbody.group >> nth=0 >> tr.sample td:nth-child(${column})`).allTextContents();

before(async () => {
  outdir = mkdtempSync(join(tmpdir(), 'reward-preview-'));
  mkdirSync(screenshots, { recursive: true });
  await esbuild.build({ ...webviewBuild(), absWorkingDir: root, outdir, logLevel: 'warning' });
  host = await bundleHostModules(outdir, [
    "export { parseWebviewMessage } from './src/previews/core/rewardPreviewProtocol.ts';",
    "export { computeAdvantages } from './src/scoring/advantages.ts';",
    "export { advantageDriversOf, findingsOf, signalOf } from './src/scoring/signal.ts';",
    "export { untranslated } from './src/shared/vocabulary.ts';",
  ]);
  ({ origin, server } = await startPageServer({ host, outdir, bundle: 'rewardPreview', title: 'Reward Preview' }));
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

test('renders groups, rows, highlighted emoji, code-point lengths and the zero-std warning', async () => {
  const { page, posted, assertClean } = await openPanel();
  assert.equal(await page.locator('tr.sample').count(), 8);
  assert.equal(await page.locator('tbody.group').count(), 2);

  const emoji = await page.locator('tr.sample .emoji').allTextContents();
  for (const expected of ['🗼', '✨', '🇯🇵', '👍🏽', '🗻']) assert.ok(emoji.includes(expected), `${expected} highlighted`);
  const tokyo = page.locator('tr.sample', { hasText: 'Tokyo' });
  assert.equal(await tokyo.locator('td:nth-child(3)').textContent(), '8', "len('Tokyo 🇯🇵') is 8 in Python (JavaScript's .length says 10)");

  const warnings = page.locator('tbody.group .warning');
  assert.equal(await warnings.count(), 1);
  assert.ok(await page.locator('tbody.zero-std .warning').isVisible());
  assert.match(await warnings.textContent(), /no learning signal \(reward std = 0\)/);
  assert.match(await page.locator('tbody.zero-std .group-stats').textContent(), /Group 2 · 4 completions · mean 1\.500 · std 0\.000/);

  assert.ok(await page.locator('.errors', { hasText: 'format_reward' }).isVisible(), 'the failed function is reported');
  assert.equal(await page.locator('tr.sample td.none').first().textContent(), 'None');
  assert.deepEqual(await posted(), [{ type: 'ready' }], 'an update posts nothing back');
  await page.screenshot({ path: join(screenshots, 'dark.png'), fullPage: true });
  await assertClean();
  await page.close();
});

test("a dry run's signal report sits above its sample set: dead rewards, truncation and findings", async () => {
  const { page, assertClean } = await openPanel();
  const data = previewData();
  // Two prompts × four completions as TRL sampled them: no emoji anywhere, lengths that vary, most cut off.
  const rows = data.rows.map((row, i) => ({
    prompt: row.prompt,
    completion: row.completion,
    rewards: { emoji_reward: 0, length_reward: (i % 4) / 4 },
    total: (i % 4) / 4,
    advantage: row.advantage,
    length: 48 - (i % 2),
    truncated: i % 4 !== 3,
  }));
  const { advantages } = host.computeAdvantages(
    rows.map((r) => [r.rewards.emoji_reward, r.rewards.length_reward]),
    [4, 4],
    { weights: [1, 1], scaleRewards: 'group', aggregation: 'sum_then_normalize' },
  );
  rows.forEach((r, i) => (r.advantage = advantages[i]));
  const step = {
    model: 'models/SmolLM2-135M-Instruct',
    num_generations: 4,
    max_completion_length: 48,
    reward_names: ['emoji_reward', 'length_reward'],
    reward_weights: [1, 1],
    rows,
    metrics: {
      frac_reward_zero_std: 0,
      'completions/clipped_ratio': 0.75,
      'completions/mean_length': 47.5,
      'rewards/emoji_reward/mean': 0,
      'rewards/emoji_reward/std': 0,
      'rewards/length_reward/mean': 0.375,
      'rewards/length_reward/std': 0.3,
    },
  };
  const signal = host.signalOf(step);
  const drivers = host.advantageDriversOf(step);
  const findings = host.findingsOf(step, signal, drivers, { temperature: 0.9 }, host.untranslated);
  const dryRun = {
    config: 'run.smollm2.yaml',
    model: step.model,
    numGenerations: 4,
    maxCompletionLength: 48,
    sampledBy: 'trl',
    signal,
    drivers,
    findings,
  };
  await page.evaluate((update) => window.postMessage({ type: 'update', data: update }, '*'), { ...data, dryRun });
  const report = page.locator('.signal-report');
  await report.waitFor();
  assert.match(
    await report.locator('h2').textContent(),
    /Dry run of run\.smollm2\.yaml: models\/SmolLM2-135M-Instruct, 4 completions per prompt/,
  );
  assert.deepEqual(await report.locator('.stat-value').allTextContents(), ['0%', '75%', '47.5']);
  assert.equal(await report.locator('.stat.bad').count(), 1, 'the truncation share is flagged');
  assert.deepEqual(await report.locator('tr.dead td:first-child').allTextContents(), ['emoji_reward']);
  const shares = await report
    .locator('table.signal-table:not(.pairs) tbody tr')
    .evaluateAll((rows) => rows.map((row) => [...row.querySelectorAll('td')].slice(-2).map((td) => td.textContent)));
  assert.deepEqual(
    shares,
    [
      ['0%', '—'],
      ['100%', '1.00'],
    ],
    'a dead reward drives none of the advantage; the only live one drives all of it',
  );
  assert.equal(await report.locator('table.pairs td:first-child').textContent(), 'emoji_reward ~ length_reward');
  assert.equal(await report.locator('table.pairs td.num').textContent(), '—', 'no correlation with a reward that never varies');
  const texts = await report.locator('li.finding').allTextContents();
  assert.ok(
    texts.some((t) => /DRY003 emoji_reward is 0 on all 8 completions: no learning signal at temperature 0\.9/.test(t)),
    texts.join('\n'),
  );
  assert.ok(
    texts.some((t) => /DRY004 75% of completions stop at max_completion_length=48/.test(t)),
    texts.join('\n'),
  );
  await page.screenshot({ path: join(screenshots, 'dry-run-signal.png'), fullPage: true });
  await page.evaluate((update) => window.postMessage({ type: 'update', data: update }, '*'), {
    ...data,
    dryRun: { ...dryRun, sampledBy: 'onnx' },
  });
  await page.waitForFunction(() =>
    /sampled in the editor from its ONNX export/.test(document.querySelector('.signal-report h2')?.textContent ?? ''),
  );
  assert.equal(await page.locator('.signal-partial').count(), 0);
  // The first group, shown while the other prompts are sampled, says it is only that.
  await page.evaluate((update) => window.postMessage({ type: 'update', data: update }, '*'), {
    ...data,
    dryRun: { ...dryRun, sampledBy: 'onnx', firstGroupOf: 8 },
  });
  await page.waitForSelector('.signal-partial[role=status]');
  assert.equal(
    await page.locator('.signal-partial').textContent(),
    'The first prompt’s group only: the other 7 prompts are being sampled.',
  );
  await page.evaluate((update) => window.postMessage({ type: 'update', data: update }, '*'), data);
  await page.waitForFunction(() => document.querySelector('.signal')?.hidden === true);
  await assertClean();
  await page.close();
});

test('the chart says what it plots, and numbers the completions of a group line', async () => {
  const { page, assertClean } = await openPanel();
  // The second group as one `{"prompt", "completions": [...]}` line (line 5): its four bars are #5.1 … #5.4.
  const data = previewData();
  data.rows = data.rows.map((row) => (row.group === 1 ? { ...row, line: 5 } : row));
  await page.evaluate((update) => window.postMessage({ type: 'update', data: update }, '*'), data);
  const label = () => page.locator('canvas').getAttribute('aria-label');
  await page.waitForFunction(() => /#5\.4/.test(document.querySelector('canvas')?.getAttribute('aria-label') ?? ''));
  assert.equal(await label(), 'weighted total of the rewards: #1, #2, #3, #4, #5.1, #5.2, #5.3, #5.4');
  await page.locator('label', { hasText: 'Stack rewards per function' }).click();
  await page.waitForFunction(() => /^weight × reward/.test(document.querySelector('canvas')?.getAttribute('aria-label') ?? ''));
  await assertClean();
  await page.close();
});

test('sorts rows within their group by a clicked column, and filters by text', async () => {
  const { page, assertClean } = await openPanel();
  const emojiHeader = page.locator('thead button.sort', { hasText: 'emoji_reward' });
  await emojiHeader.click();
  assert.deepEqual(await columnTexts(page, 4), ['0.000', '1.000', '2.000', '4.000']);
  assert.equal(await page.locator('thead th[aria-sort]').getAttribute('aria-sort'), 'ascending');
  await emojiHeader.click();
  assert.deepEqual(await columnTexts(page, 4), ['4.000', '2.000', '1.000', '0.000']);
  assert.equal(await page.locator('thead th[aria-sort]').getAttribute('aria-sort'), 'descending');

  await page.locator('#filter input').fill('東京');
  assert.equal(await page.locator('tr.sample').count(), 3);
  assert.equal(await page.locator('tbody.group').count(), 1, 'groups without a match are hidden');
  assert.match(await page.locator('.summary').textContent(), /3 of 8 completions/);
  await page.screenshot({ path: join(screenshots, 'filtered.png'), fullPage: true });
  await page.locator('#filter input').fill('');
  assert.equal(await page.locator('tr.sample').count(), 8);
  await assertClean();
  await page.close();
});

test('posts setOptions for scale_rewards and weights, and reveal for a clicked row', async () => {
  const { page, posted, assertClean } = await openPanel();
  const setOptions = async () => (await posted()).filter((m) => m.type === 'setOptions');

  await page.locator('#scale-rewards').click();
  await page.locator('#scale-rewards li.option', { hasText: 'batch' }).click();
  await page.waitForFunction(() => window.__posted.some((m) => m.type === 'setOptions'));
  assert.deepEqual((await setOptions()).at(-1), {
    type: 'setOptions',
    options: { scaleRewards: 'batch', aggregation: 'sum_then_normalize', weights: [1, 1, 1] },
  });

  await page.locator('#weight-1 input').fill('0.5');
  await page.locator('#weight-1 input').press('Enter');
  assert.deepEqual((await setOptions()).at(-1).options.weights, [1, 0.5, 1]);
  await page.locator('#weight-1 input').fill('');
  await page.locator('#weight-1 input').press('Enter');
  assert.equal((await setOptions()).length, 2, 'an empty weight is not posted');
  assert.equal(await page.locator('#weight-1').getAttribute('invalid'), '');

  await page.locator('tr.sample', { hasText: 'Tokyo' }).click();
  assert.deepEqual((await posted()).at(-1), { type: 'reveal', file: SAMPLES_FILE, line: 2 });

  for (const message of await posted())
    assert.deepEqual(host.parseWebviewMessage(message), message, 'the host accepts what the webview posts');
  await assertClean();
  await page.close();
});

test('renders in light and dark themes and redraws the chart on a theme change', async () => {
  const { page, assertClean } = await openPanel();
  const chartImage = () => page.locator('canvas').evaluate((canvas) => canvas.toDataURL());
  const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  const setTheme = async (theme) => {
    await page.evaluate((name) => document.body.classList.replace(document.body.classList[0], name), theme);
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  };

  const darkChart = await chartImage();
  assert.equal(await background(), 'rgb(31, 31, 31)');
  await setTheme('vscode-light');
  assert.equal(await background(), 'rgb(255, 255, 255)');
  assert.notEqual(await chartImage(), darkChart, 'the chart is redrawn with the light colors');
  await page.screenshot({ path: join(screenshots, 'light.png'), fullPage: true });

  await page.locator('#stacked').click();
  await page.screenshot({ path: join(screenshots, 'light-stacked.png'), fullPage: true });
  await setTheme('vscode-dark');
  await page.screenshot({ path: join(screenshots, 'dark-stacked.png'), fullPage: true });
  await assertClean();
  await page.close();
});

test('shows its strings in the language of the bundle the host sends', async () => {
  const { page, assertClean } = await openPanel();
  const ja = JSON.parse(readFileSync(join(root, 'l10n', 'bundle.l10n.ja.json'), 'utf8'));
  await page.evaluate(({ data, strings }) => window.postMessage({ type: 'update', data, strings }, '*'), {
    data: previewData(),
    strings: ja,
  });
  await page.locator('th', { hasText: 'アドバンテージ' }).waitFor();
  const text = await page.locator('body').textContent();
  assert.match(text, /グループ 2/);
  assert.match(text, /学習シグナルなし \(報酬の標準偏差 = 0\)/);
  await page.screenshot({ path: join(screenshots, 'japanese.png') });
  await assertClean();
  await page.close();
});

test('the host rejects malformed webview messages', () => {
  const bad = [
    null,
    'ready',
    { type: 'nope' },
    { type: 'reveal', file: SAMPLES_FILE },
    { type: 'reveal', file: SAMPLES_FILE, line: 0 },
    { type: 'reveal', file: '', line: 3 },
    { type: 'setOptions', options: { scaleRewards: 'batch' } },
    { type: 'setOptions', options: { scaleRewards: 'batch', aggregation: 'mean' } },
    { type: 'setOptions', options: { scaleRewards: 'none', aggregation: 'sum_then_normalize', weights: [1, Number.NaN] } },
    { type: 'setOptions', options: { scaleRewards: 'none', aggregation: 'sum_then_normalize', weights: '1,2' } },
  ];
  for (const message of bad) assert.equal(host.parseWebviewMessage(message), undefined, JSON.stringify(message));
  assert.deepEqual(host.parseWebviewMessage({ type: 'reveal', file: SAMPLES_FILE, line: 3, extra: true }), {
    type: 'reveal',
    file: SAMPLES_FILE,
    line: 3,
  });
});

test('in a narrow editor column the total and advantage columns stay on screen', async () => {
  const { page, assertClean } = await openPanel();
  await page.setViewportSize({ width: 480, height: 800 });
  const right = async (text) =>
    page.locator('table.rewards thead th', { hasText: text }).evaluate((cell) => cell.getBoundingClientRect().right);
  for (const column of ['total', 'advantage']) {
    assert.ok((await right(column)) <= 480, `the ${column} column ends inside the 480 px panel (at ${await right(column)} px)`);
  }
  await page.screenshot({ path: join(screenshots, 'narrow.png'), fullPage: true });
  await assertClean();
  await page.close();
});
