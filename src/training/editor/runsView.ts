import * as vscode from 'vscode';
import { elapsed, eta, runLocation, type RunState } from '../core/runs';
import { shortDuration } from '../../shared/numbers';
import type { TrainingService } from './trainingService';

/** The "Runs" view: every run of the workspace with its status, step of max, elapsed time and ETA. */
export class RunsView implements vscode.TreeDataProvider<RunState>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly view: vscode.TreeView<RunState>;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly service: TrainingService) {
    this.view = vscode.window.createTreeView('grpoStudio.runs', { treeDataProvider: this });
    this.subscription = service.onDidChange(() => this.changed.fire());
  }

  getChildren(run?: RunState): RunState[] {
    return run ? [] : this.service.runs;
  }

  getTreeItem(run: RunState): vscode.TreeItem {
    // `<UTC stamp>-<config>`: the config first, so the status is not cut off behind the stamp.
    const stamped = /^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})\d{2}-(.+)$/.exec(run.name);
    const item = new vscode.TreeItem(stamped?.[6] ?? run.name, vscode.TreeItemCollapsibleState.None);
    item.id = run.dir;
    item.description = stamped
      ? `${describeRun(run)} · ${stamped[1]}-${stamped[2]}-${stamped[3]} ${stamped[4]}:${stamped[5]} UTC`
      : describeRun(run);
    item.tooltip = new vscode.MarkdownString(
      `**${run.name}**${run.external ? ` — ${run.external === 'trackio' ? vscode.l10n.t('Trackio run, made outside GRPO Studio') : vscode.l10n.t('TRL output folder, made outside GRPO Studio')}` : ''}\n\n${describeRun(run)}${run.error ? `\n\n\`\`\`\n${run.error.split('\n').slice(-8).join('\n')}\n\`\`\`` : ''}`,
    );
    item.iconPath = statusIcon(run.status);
    item.contextValue = `${run.external === 'trackio' ? 'trackio' : run.external ? 'trl' : 'run'}.${run.status}`;
    item.resourceUri = vscode.Uri.file(runLocation(run.dir));
    item.command = { command: 'grpoStudio.openDashboard', title: vscode.l10n.t('Open Dashboard'), arguments: [run] };
    return item;
  }

  dispose(): void {
    this.subscription.dispose();
    this.view.dispose();
    this.changed.dispose();
  }
}

const STATUS: Record<RunState['status'], () => string> = {
  running: () => vscode.l10n.t('running'),
  finished: () => vscode.l10n.t('finished'),
  stopped: () => vscode.l10n.t('stopped'),
  failed: () => vscode.l10n.t('failed'),
};

export function describeRun(run: RunState, now = Date.now() / 1000): string {
  const parts = [
    run.stopping ? vscode.l10n.t('stopping') : STATUS[run.status](),
    vscode.l10n.t('step {0}', run.maxSteps ? `${run.step}/${run.maxSteps}` : run.step),
  ];
  const trained = elapsed(run, now);
  if (trained !== undefined) parts.push(shortDuration(trained));
  const left = eta(run, now);
  if (left !== undefined) parts.push(vscode.l10n.t('ETA {0}', shortDuration(left)));
  if (run.reward !== undefined) parts.push(`reward ${run.reward.toFixed(3)}`);
  return parts.join(' · ');
}

function statusIcon(status: RunState['status']): vscode.ThemeIcon {
  switch (status) {
    case 'running':
      return new vscode.ThemeIcon('sync~spin', new vscode.ThemeColor('charts.blue'));
    case 'finished':
      return new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed'));
    case 'stopped':
      return new vscode.ThemeIcon('debug-pause', new vscode.ThemeColor('charts.yellow'));
    case 'failed':
      return new vscode.ThemeIcon('error', new vscode.ThemeColor('problemsErrorIcon.foreground'));
  }
}

/** The live step and reward of the running run in the status bar. */
export class RunStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('grpoStudio.training', vscode.StatusBarAlignment.Left, 9);
  private readonly subscription: vscode.Disposable;

  constructor(private readonly service: TrainingService) {
    this.item.name = vscode.l10n.t('GRPO Training');
    this.item.command = 'grpoStudio.openDashboard';
    this.subscription = service.onDidChange(() => this.render());
    this.render(); // runs reattached after a reload are known already
  }

  private render(): void {
    const running = this.service.runs.find((r) => r.status === 'running');
    if (!running) {
      this.item.hide();
      return;
    }
    this.item.text =
      `$(pulse) GRPO ${running.maxSteps ? `${running.step}/${running.maxSteps}` : running.step}` +
      (running.reward !== undefined ? ` · ${running.reward.toFixed(3)}` : '');
    this.item.tooltip = describeRun(running);
    this.item.show();
  }

  dispose(): void {
    this.subscription.dispose();
    this.item.dispose();
  }
}
