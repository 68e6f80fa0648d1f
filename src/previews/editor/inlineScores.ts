import * as vscode from 'vscode';
import { Code } from '../../discovery/core/contract';
import type { RewardFunction } from '../../discovery/core/types';
import { summarize } from '../../scoring/engine';
import { skippedByWeight } from '../../discovery/core/moduleSlice';
import * as path from 'node:path';
import { editorLocation, openNotebook } from '../../discovery/editor/notebookCells';
import type { PreviewService, SampleSetPreview } from './previewService';
import { displayText } from '../../shared/vocabulary';
import { extent } from '../../shared/numbers';
import { zeroStdShare } from '../../scoring/signal';

/**
 * After each save: `μ 2.31 σ 1.20 [0 … 4] · 64 samples · 3 ms` at every reward function's
 * definition, a hover with a histogram and the best and worst completions, and a diagnostic on
 * the function (at the failing line) when it raised.
 */
export class InlineScores implements vscode.Disposable {
  private readonly decoration = vscode.window.createTextEditorDecorationType({
    after: { color: new vscode.ThemeColor('editorCodeLens.foreground'), margin: '0 0 0 2em', fontStyle: 'italic' },
  });
  private readonly diagnostics = vscode.languages.createDiagnosticCollection('grpo-studio-preview');
  private readonly disposables: vscode.Disposable[];

  constructor(
    private readonly service: PreviewService,
    private readonly enabled: () => boolean,
  ) {
    this.disposables = [
      this.decoration,
      this.diagnostics,
      service.onDidChange(() => this.render()),
      vscode.window.onDidChangeVisibleTextEditors(() => this.render()),
      vscode.languages.registerHoverProvider(
        [
          { language: 'python', scheme: 'file' },
          { language: 'python', scheme: 'vscode-notebook-cell' },
        ],
        { provideHover: (doc, pos) => this.hover(doc, pos) },
      ),
    ];
  }

  private render(): void {
    const current = this.service.current();
    this.publishFailures(current);
    for (const editor of vscode.window.visibleTextEditors) {
      if (editor.document.languageId !== 'python' || !this.enabled()) {
        editor.setDecorations(this.decoration, []);
        continue;
      }
      const options = (current?.rewards ?? []).flatMap((reward, k) => {
        const line = this.lineIn(editor.document, reward);
        return line === undefined
          ? []
          : [{ range: new vscode.Range(line, 10_000, line, 10_000), renderOptions: { after: { contentText: inlineText(current!, k) } } }];
      });
      editor.setDecorations(this.decoration, options);
    }
  }

  /** The line of `document` (a file, or a notebook's cell) where `reward` is defined, if it is there. */
  private lineIn(document: vscode.TextDocument, reward: RewardFunction): number | undefined {
    if (reward.file !== document.uri.fsPath) return undefined;
    const place = editorLocation(reward.file, reward.range, this.service.discovery.cellOf);
    return place?.uri.toString() === document.uri.toString() ? place.range.start.line : undefined;
  }

  private publishFailures(current: SampleSetPreview | undefined): void {
    this.diagnostics.clear();
    const byUri = new Map<string, { uri: vscode.Uri; diagnostics: vscode.Diagnostic[] }>();
    const add = (uri: vscode.Uri | undefined, diagnostic: vscode.Diagnostic) => {
      if (!uri) return; // a notebook that is not open
      diagnostic.source = 'GRPO Studio preview';
      const entry = byUri.get(uri.toString()) ?? { uri, diagnostics: [] };
      entry.diagnostics.push(diagnostic);
      byUri.set(uri.toString(), entry);
    };
    const { cellOf } = this.service.discovery;
    current?.preview?.functions.forEach((outcome, k) => {
      const reward = current.rewards[k];
      if (!reward) return;
      const at = editorLocation(reward.file, reward.range, cellOf);
      const nameRange = at?.range ?? new vscode.Range(0, 0, 0, 0);
      const staticCallError = reward.problems.some((p) => p.severity === 'error' && CALL_ERROR_CODES.has(p.code));
      if (outcome.signature && outcome.signature.binds === staticCallError) {
        add(
          at?.uri,
          new vscode.Diagnostic(
            nameRange,
            outcome.signature.binds
              ? vscode.l10n.t("The static check expects GRPOTrainer's call to fail, but Python binds it. Please report this disagreement.")
              : vscode.l10n.t(
                  "Python cannot bind GRPOTrainer's call ({0}), which the static check missed. Please report this disagreement.",
                  outcome.signature.message ?? '',
                ),
            vscode.DiagnosticSeverity.Warning,
          ),
        );
      }
      // A call the static check already explains is not reported twice.
      if (!outcome.error || (staticCallError && outcome.signature?.binds === false)) return;
      const frame = [...outcome.error.traceback].reverse().find((f) => f.file === reward.file);
      // A notebook's frames come placed in their cell already (the engine maps them).
      const notebook = frame?.cell !== undefined ? openNotebook(reward.file) : undefined;
      const uri = notebook && frame!.cell! < notebook.cellCount ? notebook.cellAt(frame!.cell!).document.uri : at?.uri;
      const line = frame ? frame.line - 1 : 0;
      add(
        uri,
        new vscode.Diagnostic(
          frame ? new vscode.Range(line, 0, line, 10_000) : nameRange,
          vscode.l10n.t(
            '{0} raised {1}: {2} (on the sample set {3})',
            reward.name,
            outcome.error.type,
            outcome.error.message,
            vscode.workspace.asRelativePath(current.file),
          ),
          vscode.DiagnosticSeverity.Error,
        ),
      );
    });
    for (const { uri, diagnostics } of byUri.values()) this.diagnostics.set(uri, diagnostics);
  }

  private hover(doc: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    const current = this.service.current();
    const k = current?.rewards.findIndex((r) => this.lineIn(doc, r) === position.line) ?? -1;
    if (!current?.preview || k < 0) return undefined;
    return new vscode.Hover(hoverMarkdown(current, k, current.rewards[k]));
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

/** Static codes that mean GRPOTrainer's keyword call itself fails. */
const CALL_ERROR_CODES = new Set<string>([Code.missingKwargs, Code.positionalOnly, Code.neverPassed, Code.missingColumn, Code.argsOnly]);

const fmt = (v: number) => (Math.abs(v) >= 100 || Number.isInteger(v) ? v.toFixed(0) : v.toFixed(2));

const formatMs = (ms: number) => `${ms.toFixed(ms < 1 ? 2 : ms < 10 ? 1 : 0)} ms`;

export function inlineText(current: SampleSetPreview, k: number): string {
  if (!current.preview) return `GRPO: ${current.failure ?? vscode.l10n.t('not scored yet')}`;
  const outcome = current.preview.functions[k];
  if (outcome.error) return `GRPO: ${outcome.error.type}: ${outcome.error.message}`;
  const stats = summarize(current.preview.rewards.map((row) => row[k]));
  const n = current.set.samples.length;
  if (!stats) return vscode.l10n.t('GRPO: None for all {0} samples · {1}', n, formatMs(outcome.ms));
  const flat = zeroStdShare(
    current.preview.rewards.map((row) => row[k]),
    current.set.groups.map((g) => g.size),
  );
  const samples = n === 1 ? vscode.l10n.t('1 sample') : vscode.l10n.t('{0} samples', n);
  return [
    `μ ${fmt(stats.mean)} σ ${fmt(stats.std)} [${fmt(stats.min)} … ${fmt(stats.max)}]`,
    ...(flat === 1 ? [vscode.l10n.t('no learning signal: σ 0 in every group')] : []),
    samples,
    formatMs(outcome.ms),
  ].join(' · ');
}

function hoverMarkdown(current: SampleSetPreview, k: number, reward: RewardFunction): vscode.MarkdownString {
  const preview = current.preview!;
  const values = preview.rewards.map((row) => row[k]);
  const md = new vscode.MarkdownString();
  md.appendMarkdown(
    `**${reward.name}** — ${vscode.l10n.t('scores on {0}, the sample set last active', vscode.workspace.asRelativePath(current.file))}\n\n`,
  );
  md.appendCodeblock(histogram(values.filter((v): v is number => v !== null)), 'text');
  const ranked = values
    .map((value, i) => ({ value, i }))
    .filter((x): x is { value: number; i: number } => x.value !== null)
    .sort((a, b) => b.value - a.value);
  const line = (x: { value: number; i: number }) =>
    `- \`${fmt(x.value)}\` ${displayText(current.set.samples[x.i].completion).replace(/\s+/g, ' ').slice(0, 80)}\n`;
  if (ranked.length) {
    md.appendMarkdown(
      `${vscode.l10n.t('Best')}:\n${ranked.slice(0, 3).map(line).join('')}\n${vscode.l10n.t('Worst')}:\n${ranked.slice(-3).reverse().map(line).join('')}`,
    );
  }
  const outcome = preview.functions[k];
  const logged = [
    ...Object.entries(outcome.metrics).map(
      ([name, values]) => `- log_metric \`${name}\`: ${values.map((v) => (v === null ? 'NaN' : fmt(v))).join(', ')}`,
    ),
    ...Object.entries(outcome.extra).map(
      ([column, values]) =>
        `- log_extra \`${column}\`: ${values
          .slice(0, 8)
          .map((v) => JSON.stringify(v))
          .join(', ')}${values.length > 8 ? ', …' : ''}`,
    ),
  ];
  if (logged.length) md.appendMarkdown(`\n${logged.join('\n')}\n`);
  for (const warning of outcome.warnings) md.appendMarkdown(`\n⚠ ${warning}\n`);
  if (preview.placeholderIds)
    md.appendMarkdown(`\n${vscode.l10n.t('completion_ids are placeholders (set grpoStudio.preview.tokenizer for real ids).')}`);
  const slice = preview.slices[reward.file];
  if (slice && !slice.whole) {
    const skipped = skippedByWeight(slice)
      .slice(0, 3)
      .map(
        (s) =>
          `\`${s.text}\` (${s.cell === undefined ? vscode.l10n.t('line {0}', s.line) : vscode.l10n.t('cell {0}, line {1}', s.cell, s.line)})`,
      );
    md.appendMarkdown(
      `\n\n${vscode.l10n.t(
        "Ran {0} of the {1} top-level statements of {2}, the ones this file's rewards need; not run: {3}",
        slice.ran.length,
        slice.ran.length + slice.skipped.length,
        path.basename(reward.file),
        skipped.join(', ') + (slice.skipped.length > skipped.length ? ', …' : ''),
      )}`,
    );
  }
  if (preview.python) md.appendMarkdown(`\n\n${vscode.l10n.t('Python: {0}', preview.python.executable)}`);
  return md;
}

/** A text histogram: a row per value when there are few distinct ones, else ten bins. */
export function histogram(values: number[], bins = 10): string {
  if (values.length === 0) return '';
  const distinct = [...new Set(values)].sort((a, b) => a - b);
  if (distinct.length <= bins) {
    const counts = distinct.map((d) => values.filter((v) => v === d).length);
    const peak = extent(counts).max;
    return distinct.map((d, i) => `${fmt(d).padStart(7)} │${'█'.repeat(Math.round((counts[i] / peak) * 20))} ${counts[i]}`).join('\n');
  }
  const { min, max } = extent(values);
  const width = (max - min) / bins || 1;
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) counts[Math.min(bins - 1, Math.floor((v - min) / width))]++;
  const peak = extent(counts).max;
  return counts.map((c, b) => `${fmt(min + b * width).padStart(7)} │${'█'.repeat(Math.round((c / peak) * 20))} ${c}`).join('\n');
}
