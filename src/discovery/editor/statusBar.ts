import * as vscode from 'vscode';
import type { DiscoveryService } from './discoveryService';

/** "GRPO: 7 rewards, 2 errors" in the status bar; a click opens the Reward Functions view. */
export class RewardStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('grpoStudio.rewards', vscode.StatusBarAlignment.Left, 10);
  private readonly subscription: vscode.Disposable;

  constructor(service: DiscoveryService) {
    this.item.name = vscode.l10n.t('GRPO Reward Functions');
    this.item.command = 'grpoStudio.rewardFunctions.focus';
    this.subscription = service.onDidChange((report) => {
      const problems = report.rewards.flatMap((r) => r.problems);
      const errors = problems.filter((p) => p.severity === 'error').length;
      const warnings = problems.filter((p) => p.severity === 'warning').length;
      this.item.text =
        `$(beaker) ${vscode.l10n.t('{0} rewards', report.rewards.length)}` +
        (errors ? ` $(error) ${errors}` : '') +
        (warnings ? ` $(warning) ${warnings}` : '');
      this.item.tooltip = `${vscode.l10n.t(
        'GRPO Studio: {0} reward function(s), {1} error(s), {2} warning(s)',
        report.rewards.length,
        errors,
        warnings,
      )}\n${vscode.l10n.t('Checked for TRL {0} ({1})', service.trl.version, service.trl.source)}`;
      this.item.backgroundColor = errors ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
      this.item.show();
    });
  }

  dispose(): void {
    this.subscription.dispose();
    this.item.dispose();
  }
}
