import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RewardFunction } from '../core/types';
import { toRange, type DiscoveryService } from './discoveryService';
import type { Problem } from '../../shared/vocabulary';

type Node = { type: 'file'; file: string; rewards: RewardFunction[] } | { type: 'reward'; reward: RewardFunction };

/** The "Reward Functions" view: files, then the reward functions found in each. */
export class RewardTree implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly view: vscode.TreeView<Node>;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly service: DiscoveryService) {
    this.view = vscode.window.createTreeView('grpoStudio.rewardFunctions', { treeDataProvider: this, showCollapseAll: true });
    this.subscription = service.onDidChange(() => {
      this.changed.fire();
      this.updateBadge();
    });
  }

  getChildren(node?: Node): Node[] {
    if (node?.type === 'reward') return [];
    if (node?.type === 'file') return node.rewards.map((reward) => ({ type: 'reward', reward }));
    const byFile = new Map<string, RewardFunction[]>();
    for (const reward of this.service.report.rewards) {
      const list = byFile.get(reward.file) ?? [];
      list.push(reward);
      byFile.set(reward.file, list);
    }
    return [...byFile].map(([file, rewards]) => ({ type: 'file', file, rewards }));
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if (node.type === 'file') {
      const item = new vscode.TreeItem(path.basename(node.file), vscode.TreeItemCollapsibleState.Expanded);
      item.resourceUri = vscode.Uri.file(node.file);
      // The error count comes with resourceUri, from the Problems decorations: not a second time here.
      item.description = describeFile(node.file);
      item.iconPath = vscode.ThemeIcon.File;
      item.contextValue = 'rewardFile';
      return item;
    }
    const { reward } = node;
    const item = new vscode.TreeItem(reward.name, vscode.TreeItemCollapsibleState.None);
    item.description = [counts(reward.problems), kindLabel(reward)].filter(Boolean).join(' · ');
    item.tooltip = tooltip(reward);
    item.iconPath = iconFor(reward.problems);
    item.contextValue = `reward.${reward.kind}`;
    item.command = {
      command: 'grpoStudio.revealRewardFunction',
      title: vscode.l10n.t('Go to Reward Function'),
      arguments: [reward.file, toRange(reward.range)],
    };
    return item;
  }

  private updateBadge(): void {
    const errors = this.service.report.rewards.flatMap((r) => r.problems).filter((p) => p.severity === 'error').length;
    this.view.badge =
      errors > 0
        ? {
            value: errors,
            tooltip: errors === 1 ? vscode.l10n.t('1 reward function error') : vscode.l10n.t('{0} reward function errors', errors),
          }
        : undefined;
  }

  dispose(): void {
    this.subscription.dispose();
    this.view.dispose();
    this.changed.dispose();
  }
}

function describeFile(file: string): string {
  const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(file));
  return folder ? path.relative(folder.uri.fsPath, path.dirname(file)) : path.dirname(file);
}

function kindLabel(reward: RewardFunction): string {
  const labels: Record<RewardFunction['kind'], string> = {
    function: vscode.l10n.t('function'),
    lambda: vscode.l10n.t('lambda'),
    class: vscode.l10n.t('callable class'),
    factory: vscode.l10n.t('from a factory'),
    partial: vscode.l10n.t('functools.partial'),
    model: vscode.l10n.t('reward model'),
    external: vscode.l10n.t('not checked'),
  };
  return reward.isAsync ? `async ${labels[reward.kind]}` : labels[reward.kind];
}

function counts(problems: Problem[]): string {
  const errors = problems.filter((p) => p.severity === 'error').length;
  const warnings = problems.filter((p) => p.severity === 'warning').length;
  return [errors ? `✖ ${errors}` : '', warnings ? `⚠ ${warnings}` : ''].filter(Boolean).join(' ');
}

function iconFor(problems: Problem[]): vscode.ThemeIcon {
  if (problems.some((p) => p.severity === 'error'))
    return new vscode.ThemeIcon('error', new vscode.ThemeColor('problemsErrorIcon.foreground'));
  if (problems.some((p) => p.severity === 'warning'))
    return new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground'));
  return new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed'));
}

function tooltip(reward: RewardFunction): vscode.MarkdownString {
  const md = new vscode.MarkdownString();
  md.appendMarkdown(`**${reward.name}** — ${kindLabel(reward)}\n\n`);
  if (reward.origin === 'shape') md.appendMarkdown(`${vscode.l10n.t('Looks like a reward function; not passed to a trainer yet.')}\n\n`);
  const users = [...new Set(reward.references.map((r) => `${vscode.workspace.asRelativePath(r.file)}:${r.range.start.line + 1}`))];
  if (users.length) md.appendMarkdown(`${vscode.l10n.t('Used by {0}', users.map((u) => `\`${u}\``).join(', '))}\n\n`);
  for (const note of reward.notes ?? []) md.appendText(`${note}\n\n`);
  if (reward.problems.length === 0) md.appendMarkdown(vscode.l10n.t('GRPOTrainer can call this reward function.'));
  for (const p of reward.problems) md.appendMarkdown(`- \`${p.code}\` ${p.message.replace(/[\\`*_[\]]/g, '\\$&')}\n`);
  return md;
}
