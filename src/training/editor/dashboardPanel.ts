import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { openPagePanel } from '../../pagePanel';
import { parseDashboardMessage, type DashboardHostMessage, type RunInfo, type SampleRow } from '../core/dashboardProtocol';
import { metricsCsv } from '../core/metricsCsv';
import { eta, type RunState } from '../core/runs';
import { parseTrackioRunId } from '../core/trackio';
import type { TrainingService } from './trainingService';
import { SEARCH_EXCLUDE } from '../../discovery/core/sourceFiles';

/**
 * The training dashboard: live charts of every metric of one or more runs (overlaid), and the
 * completions they generate. The history comes from each run's events.jsonl, then live batches.
 */
export class DashboardPanel implements vscode.Disposable {
  private panel?: vscode.WebviewPanel;
  private shown: RunState[] = [];
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly service: TrainingService,
  ) {
    this.disposables.push(
      service.onEvents(({ dir, events }) => {
        if (this.isShown(dir)) this.post({ type: 'events', runId: dir, events });
      }),
      service.onDidChange(() => {
        for (const run of service.runs.filter((r) => this.isShown(r.dir))) {
          this.post({
            type: 'status',
            runId: run.dir,
            status: run.status,
            step: run.step,
            maxSteps: run.maxSteps,
            error: run.error,
            eta: eta(run),
          });
        }
      }),
    );
  }

  /** Shows these runs (overlaid when several). */
  show(runs: RunState[]): void {
    this.shown = runs;
    if (!this.panel) this.create();
    else this.panel.reveal(undefined, true);
    this.panel!.title = runs.length === 1 ? vscode.l10n.t('GRPO: {0}', runs[0].name) : vscode.l10n.t('GRPO: {0} runs', runs.length);
    this.reset();
  }

  private create(): void {
    const panel = openPagePanel(this.extensionUri, {
      viewType: 'grpoStudio.dashboard',
      title: vscode.l10n.t('GRPO Dashboard'),
      page: 'dashboard',
      showOptions: vscode.ViewColumn.Active,
      retainContextWhenHidden: true,
      onMessage: (raw) => void this.onMessage(raw),
      onDispose: () => (this.panel = undefined),
      disposables: this.disposables,
    });
    this.panel = panel;
  }

  private reset(): void {
    const runs: RunInfo[] = this.shown.map((shown) => {
      const run = this.service.runs.find((r) => r.dir === shown.dir) ?? shown;
      return { id: run.dir, name: run.name, status: run.status, resumable: !run.external };
    });
    // Following a run reads its history at once and announces it as new events: before the reset,
    // so that the page gets it once.
    const histories = runs.map((run) => this.service.history(run.id));
    this.post({ type: 'reset', runs, strings: vscode.l10n.bundle });
    runs.forEach((run, i) => this.post({ type: 'events', runId: run.id, events: histories[i] }));
  }

  /** Where a file of this run is offered to be saved: its folder; for a Trackio run (a database in Trackio's cache) the workspace. */
  private saveFolder(dir: string | undefined): string {
    const workspace = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
    return dir === undefined || parseTrackioRunId(dir) ? workspace : dir;
  }

  private isShown(dir: string): boolean {
    return this.shown.some((r) => r.dir === dir);
  }

  private post(message: DashboardHostMessage): void {
    void this.panel?.webview.postMessage(message);
  }

  private async onMessage(raw: unknown): Promise<void> {
    const message = parseDashboardMessage(raw);
    if (!message) return;
    switch (message.type) {
      case 'ready':
        this.reset();
        return;
      case 'stop':
        if (this.isShown(message.runId)) await this.service.stop(message.runId);
        return;
      case 'resume': {
        const run = this.isShown(message.runId) ? this.service.runs.find((r) => r.dir === message.runId) : undefined;
        if (run && !run.external) await vscode.commands.executeCommand('grpoStudio.resumeRun', run);
        return;
      }
      case 'exportCsv': {
        if (!this.isShown(message.runId)) return;
        const target = await vscode.window.showSaveDialog({
          defaultUri: vscode.Uri.file(path.join(this.saveFolder(message.runId), 'metrics.csv')),
          filters: { CSV: ['csv'] },
        });
        if (!target) return;
        await vscode.workspace.fs.writeFile(target, Buffer.from(metricsCsv(this.service.history(message.runId))));
        void vscode.window.showInformationMessage(vscode.l10n.t('GRPO: metrics written to {0}', vscode.workspace.asRelativePath(target)));
        return;
      }
      case 'savePng': {
        const target = await vscode.window.showSaveDialog({
          defaultUri: vscode.Uri.file(path.join(this.saveFolder(this.shown[0]?.dir), message.name)),
          filters: { PNG: ['png'] },
        });
        if (!target) return;
        await vscode.workspace.fs.writeFile(target, Buffer.from(message.dataUrl.slice(message.dataUrl.indexOf(',') + 1), 'base64'));
        void vscode.window.showInformationMessage(vscode.l10n.t('GRPO: chart saved to {0}', vscode.workspace.asRelativePath(target)));
        return;
      }
      case 'addToSamples':
        await addToSamples(message.rows);
    }
  }

  dispose(): void {
    this.panel?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

/** Appends completions to a samples file the previews score (chosen, or a new `captured.samples.jsonl`). */
async function addToSamples(rows: SampleRow[]): Promise<void> {
  const existing = await vscode.workspace.findFiles('**/*.samples.jsonl', SEARCH_EXCLUDE, 50);
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const fresh = folder ? path.join(folder, 'captured.samples.jsonl') : undefined;
  const choices = [...existing.map((uri) => uri.fsPath), ...(fresh && !existing.some((u) => u.fsPath === fresh) ? [fresh] : [])];
  const picked = await vscode.window.showQuickPick(
    choices.map((file) => ({ label: vscode.workspace.asRelativePath(file), file })),
    {
      placeHolder:
        rows.length === 1
          ? vscode.l10n.t('Add the completion to which sample set?')
          : vscode.l10n.t('Add {0} completions to which sample set?', rows.length),
    },
  );
  if (!picked) return;
  const text = rows.map((row) => JSON.stringify({ prompt: row.prompt, completion: row.completion })).join('\n');
  const current = fs.existsSync(picked.file) ? fs.readFileSync(picked.file, 'utf8') : '';
  fs.appendFileSync(picked.file, `${current && !current.endsWith('\n') ? '\n' : ''}${text}\n`);
  void vscode.window.showInformationMessage(
    rows.length === 1
      ? vscode.l10n.t('Added 1 completion to {0}.', picked.label)
      : vscode.l10n.t('Added {0} completions to {1}.', rows.length, picked.label),
  );
}
