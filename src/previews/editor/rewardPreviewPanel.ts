import * as vscode from 'vscode';
import { openPagePanel } from '../../pagePanel';
import { parseWebviewMessage, type HostMessage, type PreviewData } from '../core/rewardPreviewProtocol';
import { isPreviewableReward, previewableWeights, type PreviewService, type SampleSetPreview } from './previewService';
import { displayText } from '../../shared/vocabulary';

/**
 * The Reward Preview panel: completions × reward functions, weighted totals and GRPO advantages
 * of the current sample set. One panel; it follows the sample set the editor shows numbers for.
 */
export class RewardPreviewPanel implements vscode.Disposable {
  private panel?: vscode.WebviewPanel;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly service: PreviewService,
  ) {
    this.disposables.push(service.onDidChange(() => this.post()));
  }

  show(): void {
    if (this.panel) {
      // Beside the active editor, never over it: the samples file being scored stays in view.
      if (!this.panel.visible) this.panel.reveal(vscode.ViewColumn.Beside, true);
      return;
    }
    const panel = openPagePanel(this.extensionUri, {
      viewType: 'grpoStudio.rewardPreview',
      title: vscode.l10n.t('Reward Preview'),
      page: 'rewardPreview',
      showOptions: { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      onMessage: (raw) => this.onMessage(raw),
      onDispose: () => (this.panel = undefined),
      disposables: this.disposables,
    });
    this.panel = panel;
  }

  private onMessage(raw: unknown): void {
    const message = parseWebviewMessage(raw);
    if (!message) return;
    switch (message.type) {
      case 'ready':
        this.post();
        return;
      case 'setOptions':
        this.service.setOptions(message.options);
        return;
      case 'chooseSource':
        void vscode.commands.executeCommand('grpoStudio.chooseRewardPreviewSource');
        return;
      case 'writeWeights':
        void vscode.commands.executeCommand('grpoStudio.writePreviewWeights');
        return;
      case 'reveal': {
        // Only the sample set on display may be opened from the webview.
        if (!this.service.previews.has(message.file)) return;
        const line = message.line - 1;
        void vscode.window.showTextDocument(vscode.Uri.file(message.file), {
          viewColumn: vscode.ViewColumn.One,
          selection: new vscode.Range(line, 0, line, 0),
        });
      }
    }
  }

  private post(): void {
    const current = this.service.current();
    if (!this.panel || !current) return;
    const message: HostMessage = { type: 'update', data: toPreviewData(current, this.service), strings: vscode.l10n.bundle };
    void this.panel.webview.postMessage(message);
  }

  dispose(): void {
    this.panel?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

function toPreviewData(current: SampleSetPreview, service: PreviewService): PreviewData {
  const { set, preview } = current;
  const shown = preview?.inTotal ?? current.rewards.map((_, k) => k);
  const functions = shown.map((k, j) => {
    const outcome = preview?.functions[k];
    return {
      name: current.rewards[k].name,
      weight: preview?.weights[j] ?? 1,
      error: outcome?.error ? `${outcome.error.type}: ${outcome.error.message}` : undefined,
      ms: outcome?.ms,
    };
  });
  const notices = [
    current.failure,
    preview?.placeholderIds ? vscode.l10n.t('completion_ids are placeholders (set grpoStudio.preview.tokenizer for real ids).') : undefined,
  ];
  return {
    samplesFile: current.file,
    source: sourceInfo(service, functions),
    functions,
    rows: set.samples.map((sample, i) => ({
      line: sample.line,
      group: sample.group,
      prompt: displayText(sample.prompt),
      completion: displayText(sample.completion),
      rewards: shown.map((k) => preview?.rewards[i][k] ?? null),
      total: preview?.totals[i] ?? null,
      advantage: preview?.advantages[i] ?? 0,
    })),
    groups: set.groups.map((group, g) => ({
      index: group.index,
      mean: preview?.groups[g].mean ?? null,
      std: preview?.groups[g].std ?? null,
      zeroStd: preview?.groups[g].zeroStd ?? false,
      size: group.size,
    })),
    options: { scaleRewards: service.options.scaleRewards, aggregation: service.options.aggregation },
    notice: notices.filter(Boolean).join(' ') || undefined,
    dryRun: service.dryRuns.get(current.file),
  };
}

function sourceInfo(service: PreviewService, functions: { name: string; weight: number }[]): PreviewData['source'] {
  const source = service.source();
  // Weights as the lenses write them (three decimals at most).
  const weighted = functions.map((fn) => `${fn.name} ×${+fn.weight.toFixed(3)}`).join(', ');
  const label =
    source.kind === 'workspace'
      ? vscode.l10n.t('Rewards wired in the workspace: {0}', weighted)
      : vscode.l10n.t('Rewards of {0}: {1}', vscode.workspace.asRelativePath(source.file), weighted);
  const ordered = service.sourceRewards(source);
  const configWeights = service.sourceSettings(source, ordered).weights;
  // The panel's weights of the source's own rewards (a model the setting adds is not the config's).
  const ownCount = ordered.filter(isPreviewableReward).length;
  const panelWeights = service.options.weights?.slice(0, ownCount);
  const differs =
    source.kind === 'config' &&
    panelWeights !== undefined &&
    panelWeights.length === ownCount &&
    JSON.stringify(panelWeights) !== JSON.stringify(configWeights ? previewableWeights(ordered, configWeights) : undefined);
  return { label, ...(differs ? { writableTo: vscode.workspace.asRelativePath(source.file) } : {}) };
}
