import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { escapeHtml } from '../../shared/html';
import type { RunEvent, StartEvent } from './events';
import { displayText, type PromptValue, type RewardRef } from '../../shared/vocabulary';

/**
 * "GRPO: Compare Generations": the base model and a trained checkpoint answer the same prompts of
 * a run's dataset; both answer sets are scored with the run's rewards and shown side by side on a
 * static page (no script). No `vscode` here: the command (editor/compareGenerations.ts) asks the
 * user and shows the page.
 */

export type Side = 'base' | 'trained';
/** Which side scored higher; `tie` when equal; undefined when either is missing. */
export type Winner = Side | 'tie' | undefined;

export interface ComparisonScores {
  /** Reward function names, in column order. */
  names: string[];
  /** Per prompt, per function; null where the function returned None or failed. */
  base: (number | null)[][];
  trained: (number | null)[][];
  /** Weighted totals per prompt (as TRL sums them); computed from `weights` when absent. */
  baseTotals?: (number | null)[];
  trainedTotals?: (number | null)[];
  /** One weight per function (TRL's reward_weights; default 1). */
  weights?: number[];
}

export interface AnswerCell {
  text: string;
  scores: (number | null)[];
  total: number | null;
}

export interface ComparisonRow {
  prompt: string;
  base: AnswerCell;
  trained: AnswerCell;
  /** Per function, then the total. */
  perReward: Winner[];
  total: Winner;
}

/** TRL's total: nansum of the weighted values; null when every function returned None. */
export function weightedTotal(values: (number | null)[], weights?: number[]): number | null {
  let sum = 0;
  let any = false;
  values.forEach((v, k) => {
    if (v === null || Number.isNaN(v)) return;
    sum += v * (weights?.[k] ?? 1);
    any = true;
  });
  return any ? sum : null;
}

export function winner(base: number | null | undefined, trained: number | null | undefined): Winner {
  if (base === null || base === undefined || trained === null || trained === undefined) return undefined;
  return trained > base ? 'trained' : base > trained ? 'base' : 'tie';
}

export function comparisonRows(prompts: PromptValue[], base: PromptValue[], trained: PromptValue[], scores: ComparisonScores): ComparisonRow[] {
  return prompts.map((prompt, i) => {
    const cell = (side: Side): AnswerCell => {
      const values = scores.names.map((_, k) => scores[side][i]?.[k] ?? null);
      const totals = side === 'base' ? scores.baseTotals : scores.trainedTotals;
      const answer = (side === 'base' ? base : trained)[i];
      return { text: answer === undefined ? '' : displayText(answer), scores: values, total: totals ? (totals[i] ?? null) : weightedTotal(values, scores.weights) };
    };
    const b = cell('base');
    const t = cell('trained');
    return { prompt: displayText(prompt), base: b, trained: t, perReward: b.scores.map((v, k) => winner(v, t.scores[k])), total: winner(b.total, t.total) };
  });
}

export interface ComparisonPage {
  rows: ComparisonRow[];
  rewardNames: string[];
  title: string;
  /** Column headings, e.g. the base model's and the checkpoint's names. */
  baseLabel: string;
  trainedLabel: string;
  /** Lines above the table (run, settings); plain text. */
  details?: string[];
  /** Problems to show (a reward that failed, one that could not be loaded). */
  warnings?: string[];
  /** `vscode.env.language`. */
  language?: string;
  /** Translated words of the page (English by default). */
  labels?: Partial<Record<'prompt' | 'reward' | 'total' | 'higher' | 'none' | 'summary', string>>;
}


export function formatScore(value: number | null): string {
  if (value === null) return '—';
  return Number.isInteger(value) ? String(value) : value.toFixed(3).replace(/0+$/, '').replace(/\.$/, '');
}

const STYLE = `
body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); color: var(--vscode-foreground); background: var(--vscode-editor-background); padding: 0 16px 24px; }
h1 { font-size: 1.3em; font-weight: 600; }
.details, .summary { color: var(--vscode-descriptionForeground); margin: 2px 0; }
.warning { color: var(--vscode-editorWarning-foreground); margin: 2px 0; }
section { border-top: 1px solid var(--vscode-panel-border); padding: 12px 0; }
.prompt { font-weight: 600; white-space: pre-wrap; overflow-wrap: anywhere; margin-bottom: 8px; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
.answer { border: 1px solid var(--vscode-panel-border); border-radius: 4px; padding: 8px; min-width: 0; }
.answer.higher { border-color: var(--vscode-charts-green); }
.side { font-size: 0.9em; color: var(--vscode-descriptionForeground); margin-bottom: 4px; overflow-wrap: anywhere; }
.text { font-family: var(--vscode-editor-font-family); white-space: pre-wrap; overflow-wrap: anywhere; background: var(--vscode-textCodeBlock-background); padding: 6px; border-radius: 3px; }
table { border-collapse: collapse; margin-top: 6px; font-variant-numeric: tabular-nums; }
td, th { padding: 1px 8px 1px 0; text-align: left; font-weight: normal; }
td.num { text-align: right; }
tr.total td, tr.total th { font-weight: 600; border-top: 1px solid var(--vscode-panel-border); }
td.higher { color: var(--vscode-charts-green); font-weight: 600; }
td.higher::after { content: ' ▲'; }
td.lower { color: var(--vscode-descriptionForeground); }
`;

/** Content-Security-Policy of the static page: nothing but its own inline stylesheet (by hash); no script at all. */
export function staticPageCsp(style: string): string {
  const hash = createHash('sha256').update(style, 'utf8').digest('base64');
  return ["default-src 'none'", `style-src 'sha256-${hash}'`, 'img-src data:'].join('; ');
}

export function renderComparisonHtml(page: ComparisonPage): string {
  const labels = { prompt: 'Prompt', reward: 'Reward', total: 'Total', higher: 'higher', none: 'None or failed', summary: 'Mean total: {0} → {1}; trained higher on {2}, base higher on {3}, tied on {4} of {5} prompts.', ...page.labels };
  const mark = (w: Winner, side: Side) => (w === side ? 'higher' : w && w !== 'tie' ? 'lower' : '');
  const scoreCell = (value: number | null, w: Winner, side: Side) => {
    const cls = ['num', mark(w, side)].filter(Boolean).join(' ');
    return `<td class="${cls}"${value === null ? ` title="${escapeHtml(labels.none)}"` : ''}>${escapeHtml(formatScore(value))}</td>`;
  };
  const answer = (row: ComparisonRow, side: Side, label: string) => {
    const cell = row[side];
    const rewards = page.rewardNames
      .map((name, k) => `<tr><th>${escapeHtml(name)}</th>${scoreCell(cell.scores[k], row.perReward[k], side)}</tr>`)
      .join('');
    return `<div class="answer ${side}${row.total === side ? ' higher' : ''}">
<div class="side">${escapeHtml(label)}</div>
<div class="text">${escapeHtml(cell.text)}</div>
<table><tbody>${rewards}<tr class="total"><th>${escapeHtml(labels.total)}</th>${scoreCell(cell.total, row.total, side)}</tr></tbody></table>
</div>`;
  };
  const sections = page.rows
    .map((row, i) => `<section>
<div class="prompt">${i + 1}. ${escapeHtml(row.prompt)}</div>
<div class="pair">
${answer(row, 'base', page.baseLabel)}
${answer(row, 'trained', page.trainedLabel)}
</div>
</section>`)
    .join('\n');
  const mean = (side: Side) => {
    const values = page.rows.map((r) => r[side].total).filter((v): v is number => v !== null);
    return values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
  };
  const count = (w: Winner) => String(page.rows.filter((r) => r.total === w).length);
  const summary = [formatScore(mean('base')), formatScore(mean('trained')), count('trained'), count('base'), count('tie'), String(page.rows.length)]
    .reduce((text, value, k) => text.replace(`{${k}}`, value), labels.summary);
  return `<!DOCTYPE html>
<html lang="${escapeHtml(page.language ?? 'en')}">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(staticPageCsp(STYLE))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${escapeHtml(page.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(page.title)}</h1>
${(page.details ?? []).map((d) => `<p class="details">${escapeHtml(d)}</p>`).join('\n')}
${(page.warnings ?? []).map((w) => `<p class="warning">${escapeHtml(w)}</p>`).join('\n')}
<p class="summary">${escapeHtml(summary)}</p>
${sections}
</body>
</html>
`;
}

// ---- What a run needs for a comparison: from its start event alone ----

export interface CompareTarget {
  label: string;
  /** Model folder. */
  path: string;
}

export interface RunComparisonInputs {
  configFile: string;
  /** The folders the runner looks relative paths up in: the cwd it ran in, then the config's folder. */
  searchDirs: string[];
  /** Resolved like the runner does (a local folder when one exists, else as written: a model id). */
  baseModel: string;
  /** Checkpoints, newest first, then the final model when the run saved one. */
  targets: CompareTarget[];
  /** Local dataset file (jsonl/json) when the config names one. */
  datasetFile?: string;
  /** Dataset `column_mapping` (old name → new name). */
  columnMapping: Record<string, string>;
  /** Prompts become chat messages (runner's chat_format / system_prompt). */
  chatFormat: boolean;
  systemPrompt?: string;
  rewardSpecs: string[];
  rewardWeights?: number[];
  maxCompletionLength?: number;
}

const record = (value: unknown): Record<string, unknown> => (value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {});

/** A relative path that exists in one of `dirs` (in order) is taken from there; otherwise it stays as written. */
export function resolveLike(value: string, dirs: string[]): string {
  if (path.isAbsolute(value)) return value;
  for (const dir of dirs) {
    const candidate = path.join(dir, value);
    if (fs.existsSync(candidate)) return candidate;
  }
  return value;
}

/** `checkpoint-N` folders of a run, newest first. */
export function listCheckpoints(runDir: string): CompareTarget[] {
  let names: string[];
  try {
    names = fs.readdirSync(runDir);
  } catch {
    return [];
  }
  return names
    .map((name) => ({ name, step: Number(/^checkpoint-(\d+)$/.exec(name)?.[1] ?? NaN) }))
    .filter((c) => Number.isFinite(c.step) && fs.statSync(path.join(runDir, c.name)).isDirectory())
    .sort((a, b) => b.step - a.step)
    .map((c) => ({ label: c.name, path: path.join(runDir, c.name) }));
}

/**
 * A run's model, dataset and rewards, from its (latest) start event; `cwd` is where the runner
 * ran (the workspace folder for runs the extension started). Undefined without a start event.
 */
export function runComparisonInputs(runDir: string, events: RunEvent[], cwd: string): RunComparisonInputs | undefined {
  const start = [...events].reverse().find((e): e is StartEvent => e.event === 'start');
  if (!start?.config) return undefined;
  const configFile = typeof start.config_file === 'string' ? start.config_file : '';
  const searchDirs = [...new Set([cwd, configFile ? path.dirname(configFile) : cwd])];
  const script = record(start.config.script);
  const training = record(start.config.training);
  const model = record(start.config.model);
  const mixture = record(start.config.datasets);
  const end = [...events].reverse().find((e) => e.event === 'end');
  const targets = listCheckpoints(runDir);
  if (end?.event === 'end' && end.status === 'finished' && fs.existsSync(path.join(runDir, 'config.json'))) {
    targets.unshift({ label: path.basename(runDir), path: runDir });
  }
  const mapping = record(script.column_mapping);
  return {
    configFile,
    searchDirs,
    baseModel: typeof model.model_name_or_path === 'string' ? resolveLike(model.model_name_or_path, searchDirs) : '',
    targets,
    datasetFile: localDatasetFile(script, mixture, searchDirs),
    columnMapping: Object.fromEntries(Object.entries(mapping).filter((e): e is [string, string] => typeof e[1] === 'string')),
    chatFormat: script.chat_format === true || typeof script.system_prompt === 'string',
    systemPrompt: typeof script.system_prompt === 'string' ? script.system_prompt : undefined,
    rewardSpecs: Array.isArray(script.reward_funcs) ? script.reward_funcs.filter((s): s is string => typeof s === 'string') : [],
    rewardWeights: Array.isArray(training.reward_weights) ? training.reward_weights.filter((w): w is number => typeof w === 'number') : undefined,
    maxCompletionLength: typeof training.max_completion_length === 'number' ? training.max_completion_length : undefined,
  };
}

const LOCAL_DATA = /\.(jsonl|json)$/i;

function localDatasetFile(script: Record<string, unknown>, mixture: Record<string, unknown>, dirs: string[]): string | undefined {
  const candidates: string[] = [];
  if (typeof script.dataset_name === 'string') candidates.push(script.dataset_name);
  for (const entry of Array.isArray(mixture.datasets) ? mixture.datasets : []) {
    const ds = record(entry);
    if (typeof ds.path === 'string') candidates.push(ds.path);
    const files = ds.data_files;
    if (typeof files === 'string') candidates.push(files);
    else if (Array.isArray(files)) candidates.push(...files.filter((f): f is string => typeof f === 'string'));
    else {
      const split = typeof ds.split === 'string' ? ds.split : 'train';
      const byName = record(files);
      const chosen = byName[split] ?? Object.values(byName)[0];
      if (typeof chosen === 'string') candidates.push(chosen);
      else if (Array.isArray(chosen) && typeof chosen[0] === 'string') candidates.push(chosen[0]);
    }
  }
  for (const candidate of candidates) {
    if (!LOCAL_DATA.test(candidate)) continue;
    const resolved = resolveLike(candidate, dirs);
    if (fs.existsSync(resolved)) return resolved;
  }
  return undefined;
}

export interface PromptRow {
  prompt: PromptValue;
  /** The other columns, passed to rewards as TRL does. */
  columns: Record<string, unknown>;
}

/**
 * The first `limit` rows of a JSON Lines / JSON file with a `prompt` after `column_mapping`
 * (duplicates skipped: a samples file repeats the prompt of each group), made chat messages as the
 * runner does when asked to.
 */
export function readPrompts(text: string, limit: number, options: { columnMapping?: Record<string, string>; chatFormat?: boolean; systemPrompt?: string } = {}): PromptRow[] {
  const trimmed = text.trim();
  let rows: unknown[];
  if (trimmed.startsWith('[')) {
    rows = JSON.parse(trimmed) as unknown[];
  } else {
    rows = [];
    for (const line of trimmed.split('\n')) {
      if (!line.trim()) continue;
      try {
        rows.push(JSON.parse(line));
      } catch {
        // A malformed line is skipped: the comparison needs a few prompts, not every row.
      }
    }
  }
  const seen = new Set<string>();
  const result: PromptRow[] = [];
  for (const raw of rows) {
    if (result.length >= limit) break;
    const row: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(record(raw))) row[options.columnMapping?.[key] ?? key] = value;
    const { prompt, completion: _completion, completions: _completions, ...columns } = row;
    let value: PromptValue | undefined;
    if (typeof prompt === 'string') value = prompt;
    else if (Array.isArray(prompt) && prompt.every((m) => typeof record(m).role === 'string' && typeof record(m).content === 'string')) value = prompt as PromptValue;
    if (value === undefined) continue;
    if (options.chatFormat || options.systemPrompt) {
      let messages = typeof value === 'string' ? [{ role: 'user', content: value }] : [...value];
      if (options.systemPrompt && messages[0]?.role !== 'system') messages = [{ role: 'system', content: options.systemPrompt }, ...messages];
      value = messages;
    }
    const key = JSON.stringify(value);
    if (seen.has(key)) continue;
    seen.add(key);
    result.push({ prompt: value, columns });
  }
  return result;
}

/**
 * Reward refs the worker can load, from the config's reward_funcs: `file.py::name`, or dotted
 * `pkg.module.fn` found as `pkg/module.py` (or `pkg/module/__init__.py`) in `dirs`. Others (TRL
 * built-in names, reward models, modules installed in site-packages) come back as `skipped`.
 */
export function resolveRewardRefs(specs: string[], dirs: string[]): { refs: RewardRef[]; skipped: string[] } {
  const refs: RewardRef[] = [];
  const skipped: string[] = [];
  for (const spec of specs) {
    let file: string | undefined;
    let attr: string | undefined;
    if (spec.includes('::')) {
      const at = spec.lastIndexOf('::');
      attr = spec.slice(at + 2);
      const resolved = resolveLike(spec.slice(0, at), dirs);
      if (path.isAbsolute(resolved) && fs.existsSync(resolved)) file = resolved;
    } else if (spec.includes('.')) {
      const dot = spec.lastIndexOf('.');
      attr = spec.slice(dot + 1);
      const modulePath = spec.slice(0, dot).split('.').join(path.sep);
      for (const candidate of [`${modulePath}.py`, path.join(modulePath, '__init__.py')]) {
        const resolved = resolveLike(candidate, dirs);
        if (path.isAbsolute(resolved) && fs.existsSync(resolved)) {
          file = resolved;
          break;
        }
      }
    }
    if (file && attr) refs.push({ name: attr, file, attr });
    else skipped.push(spec);
  }
  return { refs, skipped };
}

// ---- Running python/grpo_studio_generate.py ----

export interface GenerateOptions {
  python: string;
  script: string;
  model: string;
  tokenizer?: string;
  promptsFile: string;
  outFile: string;
  maxNewTokens?: number;
  temperature?: number;
  seed?: number;
  cwd: string;
  /** Called with (done, total) as answers come. */
  onProgress?: (done: number, total: number) => void;
  onOutput?: (text: string) => void;
}

/** Runs the generate script; resolves with its answers in prompt order. `kill()` on the child cancels. */
export function runGenerate(options: GenerateOptions): { child: ChildProcess; done: Promise<PromptValue[]> } {
  const args = [options.script, '--model', options.model, '--prompts', options.promptsFile, '--out', options.outFile];
  if (options.tokenizer) args.push('--tokenizer', options.tokenizer);
  if (options.maxNewTokens !== undefined) args.push('--max-new-tokens', String(options.maxNewTokens));
  if (options.temperature !== undefined) args.push('--temperature', String(options.temperature));
  if (options.seed !== undefined) args.push('--seed', String(options.seed));
  const child = spawn(options.python, args, {
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PYTHONUNBUFFERED: '1', PYTHONIOENCODING: 'utf-8', TOKENIZERS_PARALLELISM: 'false' },
  });
  let stderr = '';
  const done = new Promise<PromptValue[]>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => options.onOutput?.(chunk.toString('utf8')));
    child.stderr!.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      stderr = (stderr + text).slice(-4000);
      options.onOutput?.(text);
      for (const match of text.matchAll(/generated (\d+)\/(\d+)/g)) options.onProgress?.(Number(match[1]), Number(match[2]));
    });
    child.on('error', (error) => reject(new Error(`could not start ${options.python}: ${error.message}`)));
    child.on('close', (code, signal) => {
      if (code !== 0) {
        const errorLine = stderr.split('\n').reverse().find((l) => l.startsWith('error: '));
        const detail = errorLine?.slice('error: '.length) ?? stderr.trim().split('\n').slice(-3).join('\n');
        reject(new Error(signal ? `generation stopped (${signal})` : `generation failed (exit code ${code}): ${detail}`));
        return;
      }
      try {
        const lines = fs.readFileSync(options.outFile, 'utf8').split('\n').filter((l) => l.trim());
        resolve(lines.map((l) => (JSON.parse(l) as { completion: PromptValue }).completion));
      } catch (error) {
        reject(error as Error);
      }
    });
  });
  return { child, done };
}
