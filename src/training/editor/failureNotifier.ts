import * as path from 'node:path';
import * as vscode from 'vscode';
import { LOG_FILE, type RunState } from '../core/runs';
import type { DashboardPanel } from './dashboardPanel';
import type { TrainingService } from './trainingService';

/**
 * A run that fails while this window watches says so where the user looks: a notification with
 * the cause's last line, "Show Log" and "Open Dashboard", whenever it fails (loading the model or
 * at step 5,000) and whoever started it. Runs that had failed before the window opened stay quiet.
 */
export class RunFailureNotifier implements vscode.Disposable {
  private readonly seen = new Map<string, RunState['status']>();
  private readonly watchedSince = Date.now() / 1000;
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly service: TrainingService,
    private readonly dashboard: DashboardPanel,
  ) {
    this.subscription = service.onDidChange(() => this.check());
    this.check();
  }

  private check(): void {
    for (const run of this.service.runs) {
      const before = this.seen.get(run.dir);
      this.seen.set(run.dir, run.status);
      if (run.status !== 'failed' || before === 'failed') continue;
      // First seen already failed: it failed while we watched only if its last event is recent.
      if (before === undefined && !((run.lastEventAt ?? run.startedAt ?? 0) >= this.watchedSince)) continue;
      void this.notify(run);
    }
  }

  private async notify(run: RunState): Promise<void> {
    const showLog = vscode.l10n.t('Show Log');
    const openDashboard = vscode.l10n.t('Open Dashboard');
    const cause = run.error?.trim().split('\n').at(-1) ?? vscode.l10n.t('see runner.log');
    const choice = await vscode.window.showErrorMessage(vscode.l10n.t('GRPO: {0} failed: {1}', run.name, cause), showLog, openDashboard);
    if (choice === showLog) await vscode.window.showTextDocument(vscode.Uri.file(path.join(run.dir, LOG_FILE)));
    if (choice === openDashboard) this.dashboard.show([run]);
  }

  dispose(): void {
    this.subscription.dispose();
  }
}
