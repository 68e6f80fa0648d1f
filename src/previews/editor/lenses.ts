import * as vscode from 'vscode';
import { editorLocation } from '../../discovery/editor/notebookCells';
import { parseSampleSet, type Sample } from '../../scoring/samples';
import type { Preview } from '../../scoring/engine';
import type { PreviewService } from './previewService';

/**
 * "Score this completion" above every sample of a samples file (once scored, the lens shows the
 * scores, right above the line, however long it is) and "Preview rewards" above every reward function.
 */
export class SampleLenses implements vscode.CodeLensProvider, vscode.Disposable {
  /** Scores of a scored line, per samples file and line. */
  private readonly shown = new Map<string, Map<number, string>>();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly disposables: vscode.Disposable[];

  constructor(
    private readonly service: PreviewService,
    private readonly placement: () => 'every' | 'group' | 'off',
  ) {
    this.disposables = [
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration('grpoStudio.preview.sampleLenses')) this.changed.fire();
      }),
      this.changed,
      service.onDidChange(() => this.changed.fire()),
      vscode.workspace.onDidChangeTextDocument((event) => {
        if (this.shown.delete(event.document.uri.fsPath)) this.changed.fire();
      }),
    ];
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const file = document.uri.fsPath;
    if (this.service.isSamplesFile(file)) {
      const where = this.placement();
      if (where === 'off') return [];
      const set = parseSampleSet(document.getText());
      const scores = this.shown.get(file);
      const firstOfGroup = new Set(set.groups.map((g) => set.samples[g.start]?.line));
      const lines = [...new Set(set.samples.map((s) => s.line))].filter(
        (line) => where === 'every' || firstOfGroup.has(line) || scores?.has(line),
      );
      return lines.map(
        (line) =>
          new vscode.CodeLens(new vscode.Range(line - 1, 0, line - 1, 0), {
            title: scores?.has(line) ? `$(beaker) ${scores.get(line)}` : vscode.l10n.t('Score this completion'),
            tooltip: vscode.l10n.t('Score this completion'),
            command: 'grpoStudio.scoreSample',
            arguments: [file, line],
          }),
      );
    }
    if (document.languageId !== 'python') return [];
    // In a notebook, each cell shows the lenses of the rewards defined in it.
    return this.service.rewardsIn(file).flatMap((reward) => {
      const place = editorLocation(reward.file, reward.range, this.service.discovery.cellOf);
      if (place?.uri.toString() !== document.uri.toString()) return [];
      const line = place.range.start.line;
      return [
        new vscode.CodeLens(new vscode.Range(line, 0, line, 0), {
          title: vscode.l10n.t('Preview rewards'),
          command: 'grpoStudio.openRewardPreview',
          arguments: [],
        }),
      ];
    });
  }

  /** Scores the sample(s) on `line` of `file` and shows the result in that line's lens. */
  async scoreLine(file: string, line: number): Promise<Preview | undefined> {
    const document = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
    const samples = parseSampleSet(document.getText()).samples.filter((s) => s.line === line);
    if (samples.length === 0) return undefined;
    this.service.activeSamples = file;
    const results: string[] = [];
    let last: Preview | undefined;
    for (const [i, sample] of samples.entries()) {
      last = await this.service.scoreOne(sample);
      if (!last) {
        void vscode.window.showWarningMessage(
          this.service.current()?.failure ?? vscode.l10n.t('Nothing to score with: no reward function found.'),
        );
        return undefined;
      }
      // A group line scores each of its completions: numbered, as the panel numbers them.
      results.push(samples.length > 1 ? vscode.l10n.t('completion {0}: {1}', i + 1, describeScores(last)) : describeScores(last));
    }
    const map = this.shown.get(file) ?? new Map<number, string>();
    map.set(line, results.join('  |  '));
    this.shown.set(file, map);
    this.changed.fire();
    return last;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

/** `emoji_reward 3×1 + length_reward 0.223×10 → total 5.23`: the functions in the total with their weights, or the error. */
export function describeScores(preview: Preview): string {
  const parts = preview.inTotal.map((k, i) => {
    const f = preview.functions[k];
    if (f.error) return `${f.name} ${f.error.type}`;
    const value = preview.rewards[0][k];
    return `${f.name} ${value === null ? 'None' : +value.toFixed(3)}×${+preview.weights[i].toFixed(3)}`;
  });
  const total = preview.totals[0];
  return `${parts.join(' + ')} → ${vscode.l10n.t('total')} ${total === null ? '—' : +total.toFixed(3)}`;
}

export function selectionSample(text: string): Sample {
  return { line: 0, group: 0, prompt: '', completion: text, columns: {} };
}
