import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import type { RunEvent } from '../../src/training/core/events';
import { loadPythonParser } from '../../src/discovery/core/parser';
import { rewardRefsOf } from '../../src/discovery/core/rewardRefs';
import { RewardIndex } from '../../src/discovery/core/rewardIndex';
import { weightedTotal } from '../../src/scoring/advantages';
import { promptRows, readDatasetRecords } from '../../src/shared/datasetReader';
import { staticPageCsp } from '../../src/shared/html';
import { comparisonRows, formatScore } from '../../src/training/core/comparison';
import { runComparisonInputs } from '../../src/training/core/comparisonInputs';
import { renderComparisonHtml } from '../../src/training/core/comparisonPage';
import { english, repoRoot } from './helpers';

const scores = {
  names: ['emoji_reward', 'len<gth>'],
  base: [
    [0, 0.5],
    [1, null],
  ],
  trained: [
    [1, 0.5],
    [null, null],
  ],
};

test('compare: rows pair answers, total per side, winner per reward and total', () => {
  const rows = comparisonRows(
    ['富士山は？', [{ role: 'user', content: '首都は？' }]],
    ['a', 'b'],
    ['c', [{ role: 'assistant', content: 'd' }]],
    scores,
  );
  assert.equal(rows[0].prompt, '富士山は？');
  assert.equal(rows[1].prompt, '首都は？');
  assert.equal(rows[1].trained.answers[0].text, 'd');
  assert.deepEqual(rows[0].perReward, ['trained', 'tie']);
  assert.equal(rows[0].base.total, 0.5);
  assert.equal(rows[0].trained.total, 1.5);
  assert.equal(rows[0].total, 'trained');
  assert.deepEqual(rows[1].perReward, [undefined, undefined]);
  assert.equal(rows[1].trained.total, null);
  assert.equal(rows[1].total, undefined);
  assert.equal(weightedTotal([1, null, 2], [2, 5, 0.5]), 3);
  assert.equal(
    comparisonRows(['p'], ['a'], ['b'], { ...scores, base: [[0, 0]], trained: [[0, 0]], baseTotals: [9], trainedTotals: [1] })[0].total,
    'base',
  );
  assert.equal(formatScore(0.333333), '0.333');
  assert.equal(formatScore(null), '—');
});

test('compare: sampled answers, several per prompt, are compared on their means', () => {
  const names = ['emoji_reward'];
  // Two prompts, three answers each per side, in a row.
  const rows = comparisonRows(
    ['p1', 'p2'],
    ['b1', 'b2', 'b3', 'b4', 'b5', 'b6'],
    ['t1', 't2', 't3', 't4', 't5', 't6'],
    { names, base: [[0], [1], [2], [4], [null], [4]], trained: [[3], [0], [0], [1], [1], [1]] },
    3,
  );
  assert.deepEqual(
    rows.map((r) => r.base.answers.map((a) => a.text)),
    [
      ['b1', 'b2', 'b3'],
      ['b4', 'b5', 'b6'],
    ],
  );
  assert.deepEqual([rows[0].base.total, rows[0].trained.total], [1, 1]);
  assert.equal(rows[0].total, 'tie', 'equal means tie, whatever the single answers');
  assert.deepEqual(rows[1].base.scores, [4], 'None is left out of the mean');
  assert.equal(rows[1].base.answers[1].total, null);
  assert.equal(rows[1].total, 'base');
  const html = renderComparisonHtml({ rows, rewardNames: names, title: 't', baseLabel: 'b', trainedLabel: 't' });
  assert.equal(html.match(/<div class="text">/g)!.length, 12, 'every answer is shown');
  assert.equal(html.match(/<caption>Mean of 3 answers<\/caption>/g)!.length, 4);
  assert.match(html, /<div class="text">b5<\/div><p class="answer-total">Total —<\/p>/);
  assert.match(html, /Mean total: 2\.5 → 1; trained higher on 0, base higher on 1, tied on 1 of 2 prompts\./);
});

test('compare: page escapes everything, has no script, a hash-only CSP, score columns and highlights', () => {
  const rows = comparisonRows(['<script>alert(1)</script> & 富士山🗻'], ['"base" <b>'], ["trained's 😀 </div>"], {
    ...scores,
    base: [[0, 0.5]],
    trained: [[1, 0.25]],
  });
  const html = renderComparisonHtml({
    rows,
    rewardNames: scores.names,
    title: 'Compare <run>',
    baseLabel: 'models/tiny<qwen>',
    trainedLabel: 'checkpoint-4',
    details: ['a & b'],
    warnings: ['x<y'],
    language: 'ja',
  });
  assert.doesNotMatch(html, /<script/i);
  assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt; &amp; 富士山🗻/);
  assert.match(html, /&quot;base&quot; &lt;b&gt;/);
  assert.match(html, /trained&#39;s 😀 &lt;\/div&gt;/);
  assert.match(html, /<th>len&lt;gth&gt;<\/th>/);
  assert.match(html, /models\/tiny&lt;qwen&gt;/);
  assert.match(html, /<html lang="ja">/);
  const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)![1].replace(/&#39;/g, "'");
  assert.match(csp, /^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'/);
  assert.doesNotMatch(csp, /script-src|unsafe/);
  const style = /<style>([^]*?)<\/style>/.exec(html)![1];
  assert.equal(csp, staticPageCsp(style), 'the CSP allows exactly the page stylesheet');
  assert.doesNotMatch(html, /\sstyle="/, 'no inline style attributes (the CSP forbids them)');
  // Two answers, each with one score row per reward plus the total.
  assert.equal(html.match(/<div class="answer /g)!.length, 2);
  assert.equal(html.match(/<tr><th>emoji_reward<\/th>/g)!.length, 2);
  assert.equal(html.match(/<tr class="total">/g)!.length, 2);
  // emoji: trained higher; length: base higher; total 0.5 vs 1.25: trained.
  const [baseHtml, trainedHtml] = html.split('<div class="answer ').slice(1);
  assert.match(baseHtml, /^base"/);
  assert.match(baseHtml, /emoji_reward<\/th><td class="num lower">0</);
  assert.match(baseHtml, /len&lt;gth&gt;<\/th><td class="num higher">0.5</);
  assert.match(trainedHtml, /^trained higher"/);
  assert.match(trainedHtml, /emoji_reward<\/th><td class="num higher">1</);
  assert.match(trainedHtml, /<tr class="total"><th>Total<\/th><td class="num higher">1.25</);
  assert.match(html, /Mean total: 0.5 → 1.25; trained higher on 1, base higher on 0, tied on 0 of 1 prompts./);
});

test('compare: a run start event gives the base model, checkpoints, dataset, prompts and reward files', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cmp-'));
  const configDir = path.join(root, 'ex');
  fs.mkdirSync(path.join(configDir, 'models', 'base'), { recursive: true });
  fs.mkdirSync(path.join(configDir, 'data'));
  fs.mkdirSync(path.join(configDir, 'pkg'));
  fs.writeFileSync(
    path.join(configDir, 'data', 'q.jsonl'),
    '{"question": "一"}\n{"question": "一"}\nnot json\n{"question": "二", "answer": 2}\n{"question": "三"}\n',
  );
  fs.writeFileSync(path.join(configDir, 'rewards.py'), 'def emoji_reward(completions, **kwargs):\n    return [0.0 for _ in completions]\n');
  fs.writeFileSync(path.join(configDir, 'pkg', 'more.py'), 'def f(completions, **kwargs):\n    return [1.0 for _ in completions]\n');
  fs.writeFileSync(
    path.join(configDir, 'run.yaml'),
    'model_name_or_path: models/base\nreward_funcs:\n  - rewards.emoji_reward\n  - pkg/more.py::f\n  - accuracy_reward\n',
  );
  const runDir = path.join(root, 'runs', 'r');
  for (const name of ['checkpoint-2', 'checkpoint-10']) fs.mkdirSync(path.join(runDir, name), { recursive: true });
  fs.writeFileSync(path.join(runDir, 'config.json'), '{}');
  const events = [
    {
      event: 'start',
      config_file: path.join(configDir, 'run.yaml'),
      config: {
        script: {
          reward_funcs: ['rewards.emoji_reward', 'pkg/more.py::f', 'accuracy_reward'],
          column_mapping: { question: 'prompt' },
          system_prompt: 'be brief',
        },
        training: { reward_weights: [1, 2, 0.5], max_completion_length: 64, temperature: 0.9, top_k: 50, min_p: null },
        model: { model_name_or_path: 'models/base' },
        datasets: { datasets: [{ path: 'json', data_files: 'data/q.jsonl', split: 'train' }] },
      },
    },
    { event: 'end', status: 'finished', step: 10 },
  ] as RunEvent[];
  const inputs = runComparisonInputs(runDir, events, root)!;
  assert.equal(inputs.baseModel, path.join(configDir, 'models', 'base'));
  assert.deepEqual(
    inputs.targets.map((t) => t.label),
    ['r', 'checkpoint-10', 'checkpoint-2'],
  );
  assert.equal(inputs.datasetFile, path.join(configDir, 'data', 'q.jsonl'));
  assert.deepEqual(inputs.rewardWeights, [1, 2, 0.5]);
  assert.deepEqual(
    inputs.generation,
    { temperature: 0.9, topP: 1, topK: 50, minP: undefined, repetitionPenalty: 1 },
    "the run's own sampling settings, GRPOConfig's defaults for the rest",
  );
  const prompts = promptRows(readDatasetRecords(inputs.datasetFile!, inputs.config).records, { limit: 2, distinct: 'all' });
  assert.deepEqual(prompts, [
    {
      prompt: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: '一' },
      ],
      columns: {},
    },
    {
      prompt: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: '二' },
      ],
      columns: { answer: 2 },
    },
  ]);
  const index = new RewardIndex({
    roots: [root],
    parser: await loadPythonParser(path.join(repoRoot, 'dist')),
    l10n: english,
    format: 'auto',
    byShape: false,
    maxFileBytes: 1 << 20,
  });
  index.scan();
  const { refs, skipped } = rewardRefsOf(index.report().rewards, inputs.configFile);
  assert.deepEqual(refs, [
    { name: 'emoji_reward', file: path.join(configDir, 'rewards.py'), attr: 'emoji_reward' },
    { name: 'f', file: path.join(configDir, 'pkg', 'more.py'), attr: 'f' },
  ]);
  assert.deepEqual(skipped, ['accuracy_reward']);
  assert.equal(runComparisonInputs(runDir, [], root), undefined);
  fs.rmSync(root, { recursive: true, force: true });
});
