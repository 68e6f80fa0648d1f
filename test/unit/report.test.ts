import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import type { RunEvent } from '../../src/training/core/events';
import { CHART_POINTS, renderRunReport } from '../../src/training/core/report';
import { eventsIn } from '../../src/training/core/runs';
import { workspace } from './helpers';

const events = [
  {
    event: 'start',
    time: 1000,
    max_steps: 3,
    versions: { python: '3.11.7', trl: '1.16.0' },
    devices: { device: 'cpu' },
    config: { training: { learning_rate: 1e-6, note: '<b>' } },
  },
  { event: 'log', step: 1, time: 1002, metrics: { reward: 0.5, 'rewards/emoji_reward/mean': 0.25, kl: 0, 'my/custom_metric': 7 } },
  {
    event: 'log',
    step: 2,
    time: 1004,
    metrics: { reward: 0.75, 'rewards/emoji_reward/mean': null as unknown as number, kl: 0.01, 'my/custom_metric': 9 },
  },
  {
    event: 'completions',
    step: 2,
    rows: [
      {
        prompt: [{ role: 'user', content: '富士山は？' }],
        completion: '<script>alert(1)</script> & 高い🗻\u0000',
        rewards: { emoji_reward: 1, 'x<y': null },
        advantage: 0.7,
      },
    ],
  },
  { event: 'summary', step: 2, metrics: { train_runtime: 4.5 } },
  { event: 'end', status: 'stopped', time: 1005 },
] as RunEvent[];

/** Every element is closed in order (void elements aside), and no text holds a raw `<` or a bare `&`. */
function assertWellFormed(html: string): void {
  const stack: string[] = [];
  const body = html.replace(/<!doctype html>/i, '').replace(/<style>[^]*?<\/style>/, '<style></style>');
  for (const [tag, close, name, selfClosing] of body.matchAll(/<(\/?)([a-zA-Z][\w-]*)(?:\s[^<>]*?)?(\/?)>/g)) {
    if (selfClosing || ['meta', 'br', 'hr', 'img', 'link'].includes(name.toLowerCase())) continue;
    if (!close) stack.push(name);
    else assert.equal(stack.pop(), name, `</${name}> closes <${stack.at(-1) ?? 'nothing'}>: ${tag}`);
  }
  assert.deepEqual(stack, [], 'unclosed elements');
  const text = body.replace(/<\/?[a-zA-Z][^<>]*>/g, '');
  assert.doesNotMatch(text, /</, 'a raw < in text');
  assert.doesNotMatch(text, /&(?!#\d+;|[a-z]+;)/, 'a bare & in text');
}

test('report: escaped completions, no scripts, a strict CSP and utf-8', () => {
  const html = renderRunReport(events, 'run <1>');
  assert.ok(!html.includes('<script'), 'the completion text must not become a script element');
  assert.match(html, /&#60;script&#62;alert\(1\)&#60;\/script&#62; &#38; 高い🗻<span class="ctl">\\x00<\/span>/);
  assert.match(html, /\[user\] 富士山は？/);
  assert.match(html, /x&#60;y/);
  assert.match(html, /<title>run &#60;1&#62;/);
  assert.match(html, /&#34;note&#34;: &#34;&#60;b&#62;&#34;/, 'the config is escaped JSON');
  assert.match(html, /<meta charset="utf-8">/);
  assert.match(html, /content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"/);
  assert.match(html, /prefers-color-scheme: dark/);
  assertWellFormed(html);
});

test('report: a chart per metric group, unknown metrics included; status, steps and final metrics', () => {
  const html = renderRunReport(events, 'run');
  const titles = [...html.matchAll(/<svg[^>]*><title>([^<]*)<\/title>/g)].map((m) => m[1]);
  assert.deepEqual(titles, ['reward', 'kl', 'my/custom_metric']);
  assert.equal((html.match(/<\/svg>/g) ?? []).length, 3);
  const reward = html.slice(html.indexOf('<title>reward</title>'), html.indexOf('</svg>'));
  assert.match(reward, /rewards\/emoji_reward\/mean/, 'per-function rewards share the reward chart');
  assert.equal((reward.match(/<polyline/g) ?? []).length, 1, 'reward is a line; the mean with a gap at step 2 is a lone point');
  assert.match(html, /<th>Status<\/th><td>stopped<\/td>/);
  assert.match(html, /<th>Steps<\/th><td>2 \/ 3<\/td>/);
  assert.match(html, /<th>Duration<\/th><td>0:00:05<\/td>/);
  assert.match(html, /<th>trl<\/th><td>1\.16\.0<\/td>/);
  assert.match(html, /Sample completions \(step 2\)/);
  assert.match(html, /<span class="k">my\/custom_metric<\/span><span>9<\/span>/);
  assert.match(html, /<span class="k">train_runtime<\/span><span>4\.5<\/span>/);
  assertWellFormed(html);
});

test('report of a run that only started: no end, no metrics, still well-formed', () => {
  const html = renderRunReport([events[0]], 'fresh');
  assert.match(html, /<th>Status<\/th><td>no end event \(running or interrupted\)<\/td>/);
  assert.match(html, /No metrics were logged/);
  assertWellFormed(html);
  assertWellFormed(renderRunReport([], 'empty'));
});

test("report of a resumed run: the latest session's settings and closing numbers, once; the first start", () => {
  const resumed = [
    ...events.slice(0, 2),
    { event: 'summary', step: 1, metrics: { train_runtime: 2, train_loss: 0.1 } },
    { event: 'end', status: 'stopped', time: 1003 },
    { event: 'start', time: 2000, max_steps: 3, resumed_from: { step: 1 }, config: { training: { max_steps: 3 } } },
    { event: 'log', step: 2, time: 2002, metrics: { reward: 0.8 } },
    { event: 'summary', step: 2, metrics: { train_runtime: 3, train_loss: 0.2 } },
    { event: 'end', status: 'finished', time: 2003 },
  ] as RunEvent[];
  const html = renderRunReport(resumed, 'resumed');
  assertWellFormed(html);
  assert.equal(html.match(/>train_runtime</g)?.length, 1, 'one closing summary');
  assert.match(html, /max_steps(&#34;|&quot;|"): 3/);
  assert.doesNotMatch(html, /learning_rate/, "the first session's config is not shown");
  assert.match(html, /Sessions<\/th><td>2 \(resumed from step 1\)/);
  assert.match(html, /1970-01-01/, 'started at the first start');
});

test('report: 25,000 logged steps and an event of the wrong shape, read a megabyte at a time', () => {
  const dir = workspace({});
  const lines = [JSON.stringify({ event: 'start', time: 1, max_steps: 25_000, config: {} })];
  for (let step = 1; step <= 25_000; step++)
    lines.push(JSON.stringify({ event: 'log', time: 1 + step, step, metrics: { reward: step % 7, note_日本語: 0.5 } }));
  lines.splice(10, 0, '{"event": "log", "step": "twelve", "metrics": "oops"}', '{"event": "end"', 'not json');
  lines.push(JSON.stringify({ event: 'end', time: 30_000, status: 'finished', step: 25_000 }));
  fs.writeFileSync(path.join(dir, 'events.jsonl'), `${lines.join('\n')}\n`);
  assert.ok(
    fs.statSync(path.join(dir, 'events.jsonl')).size > 2 << 20,
    'more than one read chunk, with multi-byte text across their edges',
  );
  const events = Array.from(eventsIn(dir));
  assert.equal(events.length, 25_002, 'every well-formed line, none of the malformed ones');
  const html = renderRunReport(eventsIn(dir), 'long');
  assert.match(html, /<th>Steps<\/th><td>25000 \/ 25000<\/td>/);
  assert.match(html, /finished/);
});

test('report: a chart keeps a bounded number of points however many steps, ending at the last; a resume drops the re-run steps', () => {
  function* longRun(): Generator<RunEvent> {
    yield { event: 'start', time: 1, max_steps: 300_000, config: {} } as RunEvent;
    for (let step = 1; step <= 200_000; step++) yield { event: 'log', time: 1 + step, step, metrics: { reward: step } } as RunEvent;
    yield { event: 'start', time: 300_000, max_steps: 300_000, resumed_from: { step: 150_000 }, config: {} } as RunEvent;
    for (let step = 150_001; step <= 150_123; step++)
      yield { event: 'log', time: 300_000 + step, step, metrics: { reward: -step } } as RunEvent;
  }
  const html = renderRunReport(longRun(), 'long');
  const polyline = /<polyline class="c0 line" points="([^"]*)"/.exec(html)?.[1];
  assert.ok(polyline, 'the reward chart has a line');
  const points = polyline.split(' ').map((p) => p.split(',').map(Number));
  assert.ok(points.length <= CHART_POINTS && points.length > CHART_POINTS / 4, `${points.length} points`);
  assert.ok(
    points.every(([x], i) => i === 0 || x >= points[i - 1][0]),
    'in step order',
  );
  assert.match(html, /<span class="k">reward<\/span><span>-150123<\/span>/, "the final value is the resumed session's last");
  assert.match(html, /<th>Steps<\/th><td>200000 \/ 300000<\/td>/);
});
