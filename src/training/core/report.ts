import type { CompletionRow, MetricsEvent, RunEvent } from './events';
import { RunFold } from './runFold';
import { append, extent } from '../../shared/numbers';

/**
 * A run as one self-contained HTML page to share: no scripts, no network (the CSP says so), the
 * charts as inline SVG. Everything that came from the run (names, config, completions) is escaped.
 */
/** `notes`: what the run's folder lacks or holds besides (a TRL output folder's), shown under the run's facts. */
export function renderRunReport(events: Iterable<RunEvent>, runName: string, notes: string[] = []): string {
  // Memory follows the charts, not the run: each metric keeps a bounded series while the events stream by.
  const fold = new RunFold([], { keepLogs: false });
  const series = new Map<string, ChartSeries>();
  for (const event of events) {
    const { supersededAfter } = fold.apply(event);
    if (supersededAfter !== undefined) for (const s of series.values()) s.dropAfter(supersededAfter);
    if (event.event !== 'log') continue;
    for (const [key, value] of Object.entries(event.metrics)) {
      let s = series.get(key);
      if (!s) series.set(key, (s = new ChartSeries()));
      s.add(event.step, value);
    }
  }
  // A resumed run has a start per session: it started with the first, its settings are the latest's.
  const starts = fold.sessions;
  const [firstStart, start] = [starts[0], starts.at(-1)];
  const { end, maxSteps } = fold;
  const completions = fold.latestCompletions;
  // The latest closing summary (each session writes one) and the latest evaluation.
  const summaries = [fold.latestSummary, fold.latestEval].filter((e): e is MetricsEvent => e !== undefined);
  const keys = [...series.keys()].filter((k) => series.get(k)!.points.length > 0);
  const lastStep = fold.lastStep;

  const status = end ? end.status : 'no end event (running or interrupted)';
  const info: [string, string][] = [
    ['Status', status],
    ['Steps', `${lastStep}${typeof maxSteps === 'number' ? ` / ${maxSteps}` : ''}`],
    ['Started', time(firstStart?.time)],
    ['Ended', time(end?.time)],
    // Training time, pauses between sessions left out: the Runs view's and the dashboard's figure.
    ['Duration', fold.startedAt !== undefined && end?.time ? duration(fold.earlierSeconds + (end.time - fold.startedAt)) : '–'],
    ...(starts.length > 1
      ? [
          [
            'Sessions',
            `${starts.length} (resumed from step ${starts
              .slice(1)
              .map((s) => RunFold.resumedStep(s) ?? '?')
              .join(', ')})`,
          ] as [string, string],
        ]
      : []),
    start?.config_file === ''
      ? [
          'Source',
          start.config.trackio ? `Trackio project run ${String(start.config.trackio)}` : 'TRL output folder (made outside GRPO Studio)',
        ]
      : ['Config file', String(start?.config_file ?? '–')],
    ...Object.entries(start?.versions ?? {}).map(([name, version]): [string, string] => [name, String(version)]),
    ...(start && Object.keys(start.devices ?? {}).length === 0
      ? []
      : [
          [
            'Devices',
            start?.devices === undefined
              ? '–'
              : Object.entries(start.devices as object)
                  .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
                  .join(', '),
          ] as [string, string],
        ]),
  ];
  const finals: [string, number | null | undefined][] = keys.map((k) => [k, series.get(k)!.points.at(-1)![1]]);
  for (const e of summaries) append(finals, Object.entries(e.metrics));

  const charts = chartGroups(keys).map(([title, names]) =>
    lineChart(
      title,
      names.map((name) => ({ name, points: series.get(name)!.points })),
    ),
  );
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${esc(runName)} · GRPO Studio report</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>${esc(runName)}</h1><span class="status ${esc(end?.status ?? 'unknown')}">${esc(end?.status ?? 'unfinished')}</span></header>
${end?.error ? `<pre class="error">${esc(end.error)}</pre>` : ''}
<section><h2>Run</h2><table class="info">${info.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>${notes.length ? `<ul class="notes">${notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : ''}</section>
<section><h2>Metrics</h2>${charts.length ? `<div class="charts">${charts.join('\n')}</div>` : '<p>No metrics were logged.</p>'}</section>
<section><h2>Final metrics</h2>${finals.length ? `<div class="metrics">${finals.map(([k, v]) => `<div><span class="k">${esc(k)}</span><span>${esc(num(v))}</span></div>`).join('')}</div>` : '<p>None.</p>'}</section>
<section><h2>Sample completions${completions ? ` (step ${completions.step})` : ''}</h2>${completions ? completions.rows.map(sample).join('\n') : '<p>None were logged.</p>'}</section>
<section><h2>Configuration</h2><pre>${esc(JSON.stringify(start?.config ?? {}, null, 2))}</pre></section>
<footer>GRPO Studio run report</footer>
</body>
</html>
`;
}

/** Related metrics share a chart; every metric not named here gets a chart of its own. */
const GROUPS: [string, (key: string) => boolean][] = [
  ['reward', (k) => k === 'reward' || /^rewards\/.+\/mean$/.test(k)],
  ['reward_std', (k) => k === 'reward_std' || /^rewards\/.+\/std$/.test(k)],
  ...['frac_reward_zero_std', 'kl', 'entropy', 'loss', 'grad_norm', 'learning_rate'].map((name): [string, (k: string) => boolean] => [
    name,
    (k) => k === name,
  ]),
  ['completion lengths', (k) => /^completions\/.*length/.test(k)],
  ['clip ratios', (k) => /clip(ped)?_ratio/.test(k)],
  ['step_time', (k) => k === 'step_time'],
];

function chartGroups(keys: string[]): [string, string[]][] {
  const grouped = GROUPS.map(([title, match]): [string, string[]] => [
    title,
    keys.filter(match).sort((a, b) => Number(b === title) - Number(a === title)),
  ]).filter(([, series]) => series.length > 0);
  const taken = new Set(grouped.flatMap(([, series]) => series));
  return [...grouped, ...keys.filter((k) => !taken.has(k)).map((k): [string, string[]] => [k, [k]])];
}

/** Points a chart draws, at most this many per metric however long the run (a chart is 460 px wide). */
export const CHART_POINTS = 2000;

/**
 * One metric's points for a chart, bounded: when it holds CHART_POINTS, every other point goes and
 * from then on one logged step in two is kept (the stride doubles again at the next fill). The
 * latest point is always kept, so the line ends where the run does.
 */
class ChartSeries {
  readonly points: [step: number, value: number | null][] = [];
  private readonly indexes: number[] = [];
  private logged = 0;
  private stride = 1;

  add(step: number, value: number | null): void {
    const last = this.points.length - 1;
    if (last >= 0 && this.points[last][0] === step) {
      this.points[last][1] = value; // logged again at the same step: the later value stands
      return;
    }
    if (last >= 0 && this.indexes[last] % this.stride !== 0) {
      this.points.pop(); // the previous latest was only kept for being latest
      this.indexes.pop();
    }
    this.points.push([step, value]);
    this.indexes.push(this.logged++);
    if (this.points.length < CHART_POINTS) return;
    this.stride *= 2;
    let kept = 0;
    for (let i = 0; i < this.points.length; i++) {
      if (this.indexes[i] % this.stride !== 0 && i !== this.points.length - 1) continue;
      this.points[kept] = this.points[i];
      this.indexes[kept++] = this.indexes[i];
    }
    this.points.length = this.indexes.length = kept;
  }

  /** A resumed session re-runs the steps after its checkpoint: their earlier values go. */
  dropAfter(step: number): void {
    let kept = this.points.length;
    while (kept > 0 && this.points[kept - 1][0] > step) kept--;
    this.points.length = this.indexes.length = kept;
  }
}

interface Series {
  name: string;
  points: [number, number | null | undefined][];
}

const W = 460;
const PLOT_H = 170;
const M = { left: 62, right: 14, bottom: 36 };

/** A line chart: title, legend, y ticks with grid lines, step ticks, one polyline per series (gaps at missing values). */
export function lineChart(title: string, series: Series[]): string {
  const values = series.flatMap((s) => s.points.map(([, v]) => v)).filter((v): v is number => typeof v === 'number');
  const xs = series.flatMap((s) => s.points.map(([x]) => x));
  const legend: string[] = [];
  let lx = M.left;
  let ly = 40;
  const prefix = /^[^/]+\//.exec(series[0]?.name ?? '')?.[0];
  const label = (name: string) => (prefix && series.every((s) => s.name.startsWith(prefix)) ? name.slice(prefix.length) : name);
  if (series.length > 1) {
    series.forEach((s, i) => {
      const width = 22 + label(s.name).length * 6.4;
      if (lx + width > W && lx > M.left) [lx, ly] = [M.left, ly + 16];
      legend.push(
        `<rect class="c${i % 8} fill" x="${lx}" y="${ly - 8}" width="10" height="10" rx="2"/><text x="${lx + 14}" y="${ly + 1}">${esc(label(s.name))}</text>`,
      );
      lx += width;
    });
  }
  const top = series.length > 1 ? ly + 16 : 34;
  const height = top + PLOT_H + M.bottom;
  const head = `<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${height}" role="img" aria-label="${esc(title)}"><title>${esc(title)}</title><text class="title" x="${M.left}" y="20">${esc(title)}</text>${legend.join('')}`;
  if (values.length === 0) return `${head}<text class="tick" x="${M.left}" y="${top + 20}">no values</text></svg>`;

  const ys = extent(values);
  const xRange = extent(xs);
  const yAxis = niceTicks(ys.min, ys.max);
  const xAxis = niceTicks(xRange.min, xRange.max, 1);
  const px = (x: number) => M.left + ((x - xAxis.lo) / (xAxis.hi - xAxis.lo)) * (W - M.left - M.right);
  const py = (y: number) => top + PLOT_H - ((y - yAxis.lo) / (yAxis.hi - yAxis.lo)) * PLOT_H;
  const bottom = top + PLOT_H;
  const parts = [
    ...yAxis.ticks.map(
      (t) =>
        `<line class="grid" x1="${M.left}" x2="${W - M.right}" y1="${r(py(t))}" y2="${r(py(t))}"/><text class="tick" x="${M.left - 6}" y="${r(py(t)) + 4}" text-anchor="end">${esc(tickLabel(t, yAxis.step))}</text>`,
    ),
    ...xAxis.ticks.map(
      (t) =>
        `<line class="axis" x1="${r(px(t))}" x2="${r(px(t))}" y1="${bottom}" y2="${bottom + 4}"/><text class="tick" x="${r(px(t))}" y="${bottom + 16}" text-anchor="middle">${esc(num(t))}</text>`,
    ),
    `<line class="axis" x1="${M.left}" x2="${W - M.right}" y1="${bottom}" y2="${bottom}"/><line class="axis" x1="${M.left}" x2="${M.left}" y1="${top}" y2="${bottom}"/>`,
    `<text class="tick" x="${W - M.right}" y="${bottom + 30}" text-anchor="end">step</text>`,
  ];
  series.forEach((s, i) => {
    const runs: [number, number][][] = [[]];
    for (const [x, v] of s.points) {
      if (typeof v === 'number') runs[runs.length - 1].push([px(x), py(v)]);
      else if (runs[runs.length - 1].length) runs.push([]);
    }
    const dots = s.points.length <= 40;
    for (const run of runs.filter((p) => p.length)) {
      if (run.length > 1) parts.push(`<polyline class="c${i % 8} line" points="${run.map(([x, y]) => `${r(x)},${r(y)}`).join(' ')}"/>`);
      if (dots || run.length === 1)
        append(
          parts,
          run.map(([x, y]) => `<circle class="c${i % 8} fill" cx="${r(x)}" cy="${r(y)}" r="2.5"/>`),
        );
    }
  });
  return `${head}${parts.join('')}</svg>`;
}

/** Round tick values (1, 2 or 5 × 10^n apart) covering [min, max]; `minStep` keeps steps integral. */
function niceTicks(min: number, max: number, minStep = 0): { lo: number; hi: number; step: number; ticks: number[] } {
  if (min === max) [min, max] = minStep ? [min - 1, max + 1] : [min - (Math.abs(min) / 10 || 1), max + (Math.abs(max) / 10 || 1)];
  const raw = (max - min) / 5;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = Math.max(
    minStep,
    [1, 2, 5, 10].map((m) => m * magnitude).find((s) => raw <= s * 1.0000001)!,
  );
  const lo = Math.floor(min / step + 1e-9) * step;
  const hi = Math.ceil(max / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let i = 0; lo + i * step <= hi + step * 1e-6; i++) ticks.push(Number((lo + i * step).toPrecision(12)));
  return { lo, hi, step, ticks };
}

/** A tick value with as many decimals as the tick spacing needs (exponent notation when tiny or huge). */
function tickLabel(value: number, step: number): string {
  if (value === 0) return '0';
  if (step < 1e-3 || Math.abs(value) >= 1e5)
    return value.toExponential(Math.max(0, Math.round(Math.log10(Math.abs(value) / step)))).replace(/\.?0+e/, 'e');
  return value.toFixed(Math.max(0, -Math.floor(Math.log10(step) + 1e-9)));
}

function sample(row: CompletionRow, index: number): string {
  const extra = row.extra ?? {};
  const chips = [
    ...Object.entries(row.rewards).map(([name, value]) => `<span class="chip">${esc(name)} <b>${esc(num(value))}</b></span>`),
    `<span class="chip adv">advantage <b>${esc(num(row.advantage))}</b></span>`,
    ...Object.entries(extra).map(
      ([name, value]) => `<span class="chip extra">${esc(name)}: ${esc(typeof value === 'string' ? value : JSON.stringify(value))}</span>`,
    ),
  ];
  return `<article class="sample"><div class="meta"><span class="n">#${index + 1}</span>${chips.join('')}</div><div class="label">prompt</div><pre>${block(asText(row.prompt))}</pre><div class="label">completion</div><pre>${block(asText(row.completion))}</pre></article>`;
}

/** A prompt or completion as TRL has it: a string, or chat messages. */
function asText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((m) => typeof m === 'object' && m !== null && 'content' in m)) {
    return value
      .map(
        (m: { role?: string; content: unknown }) =>
          `[${m.role ?? '?'}] ${typeof m.content === 'string' ? m.content : JSON.stringify(m.content)}`,
      )
      .join('\n');
  }
  return JSON.stringify(value, null, 2) ?? '';
}

/** Escaped text for a <pre>: control characters (model output has them) as muted `\xNN`. */
function block(text: string): string {
  const parts = text.split(/([\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f])/);
  return parts
    .map((part, i) => (i % 2 ? `<span class="ctl">\\x${part.charCodeAt(0).toString(16).padStart(2, '0')}</span>` : esc(part)))
    .join('');
}

/** HTML-escaped, with control characters (model output has them) shown as their control pictures. */
export function esc(text: string): string {
  return text
    .replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, (c) =>
      String.fromCharCode(c === '\u007f' ? 0x2421 : 0x2400 + c.charCodeAt(0)),
    );
}

function num(value: number | null | undefined, digits = 4): string {
  if (value === null || value === undefined) return '–';
  if (value === 0 || Number.isInteger(value)) return String(value);
  const abs = Math.abs(value);
  return abs >= 1e5 || abs < 1e-3 ? value.toExponential(digits - 2) : String(Number(value.toPrecision(digits)));
}

const r = (n: number) => Math.round(n * 10) / 10;

function time(seconds: number | undefined): string {
  return typeof seconds === 'number'
    ? `${new Date(seconds * 1000)
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, '')} UTC`
    : '–';
}

function duration(seconds: number): string {
  const s = Math.round(seconds);
  return [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60].map((n, i) => (i ? String(n).padStart(2, '0') : String(n))).join(':');
}

const STYLE = `
:root { --fg: #1f2328; --muted: #59636e; --bg: #ffffff; --panel: #f6f8fa; --line: #d1d9e0; --grid: #e8ebef; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --muted: #9198a1; --bg: #0d1117; --panel: #151b23; --line: #3d444d; --grid: #262c36; } }
body { margin: 0 auto; max-width: 1180px; padding: 24px; font: 14px/1.5 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; align-items: center; gap: 12px; } h1 { font-size: 22px; margin: 0; word-break: break-all; }
h2 { font-size: 17px; margin: 28px 0 10px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
.status { padding: 2px 10px; border-radius: 12px; font-weight: 600; background: #9a670033; }
.status.finished { background: #1a7f3733; } .status.failed { background: #cf222e33; } .status.stopped { background: #59636e33; }
table { border-collapse: collapse; } th, td { text-align: left; padding: 3px 14px 3px 0; vertical-align: top; }
th, .k { font-weight: 500; color: var(--muted); }
.metrics { display: grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr)); gap: 2px 24px; font-variant-numeric: tabular-nums; }
.metrics div { display: flex; justify-content: space-between; gap: 12px; border-bottom: 1px dotted var(--line); }
pre { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; margin: 2px 0 8px; white-space: pre-wrap; word-break: break-word; font: 12.5px/1.45 ui-monospace, monospace; }
pre.error { border-color: #cf222e; } .charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(360px, 1fr)); gap: 14px; }
svg.chart { width: 100%; height: auto; background: var(--panel); border: 1px solid var(--line); border-radius: 6px; font: 11px system-ui, sans-serif; }
svg text { fill: var(--fg); } svg .title { font-size: 13px; font-weight: 600; } svg .tick { fill: var(--muted); }
svg .axis { stroke: var(--muted); } svg .grid { stroke: var(--grid); } svg .line { fill: none; stroke-width: 1.8; stroke-linejoin: round; }
.c0 { --c: #0969da; } .c1 { --c: #d1242f; } .c2 { --c: #1a7f37; } .c3 { --c: #8250df; } .c4 { --c: #bc4c00; } .c5 { --c: #0598bc; } .c6 { --c: #bf3989; } .c7 { --c: #6e7781; }
@media (prefers-color-scheme: dark) { .c0 { --c: #4493f8; } .c1 { --c: #f85149; } .c2 { --c: #3fb950; } .c3 { --c: #ab7df8; } .c4 { --c: #f0883e; } .c5 { --c: #39c5cf; } .c6 { --c: #f778ba; } .c7 { --c: #9198a1; } }
svg .line { stroke: var(--c); } svg .fill { fill: var(--c); }
.sample { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; margin-bottom: 10px; }
.meta { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; margin-bottom: 4px; } .n { font-weight: 600; margin-right: 4px; }
.chip { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 0 8px; font-size: 12.5px; } .label { color: var(--muted); font-size: 12px; } .ctl { color: var(--muted); font-size: 11px; }
footer { margin-top: 32px; color: var(--muted); font-size: 12px; }
`;
