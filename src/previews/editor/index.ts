import * as vscode from 'vscode';
import type { Ctx } from '../../ctx';
import type { DiscoveryService } from '../../discovery/editor/discoveryService';
import { InlineScores } from './inlineScores';
import { describeScores, SampleLenses, selectionSample } from './lenses';
import { RewardPreviewPanel } from './rewardPreviewPanel';
import { PreviewService } from './previewService';
import type { DryRunReport } from '../core/rewardPreviewProtocol';

/** What other capabilities may ask of the previews. */
export interface Previews {
  /** Shows a dry run's saved sample set in the Reward Preview panel, its signal report on top. */
  showDryRun(file: string, report: DryRunReport): Promise<void>;
}

/** Live reward previews: inline numbers, "Score this completion", the Reward Preview panel. */
export function activatePreviews(ctx: Ctx, discovery: DiscoveryService): Previews {
  const service = ctx.register(new PreviewService(ctx, discovery));
  ctx.register(new InlineScores(service, () => ctx.config.previewInline));
  const lenses = ctx.register(new SampleLenses(service));
  ctx.register(
    vscode.languages.registerCodeLensProvider(
      [
        { language: 'python', scheme: 'file' },
        { language: 'python', scheme: 'vscode-notebook-cell' },
        { pattern: '**/*.jsonl', scheme: 'file' },
      ],
      lenses,
    ),
  );

  const panel = ctx.register(new RewardPreviewPanel(ctx.extension.extensionUri, service));
  ctx.registerCommand('grpoStudio.openRewardPreview', () => panel.show());
  ctx.registerCommand('grpoStudio.scoreSample', async (file: string, line: number) => {
    await lenses.scoreLine(file, line);
    panel.show();
  });
  ctx.registerCommand('grpoStudio.refreshRewardPreview', () => service.refresh());
  ctx.registerCommand('grpoStudio.scoreSelection', async () => {
    const editor = vscode.window.activeTextEditor;
    const text = editor?.document.getText(editor.selection);
    if (!text) {
      void vscode.window.showInformationMessage(vscode.l10n.t('Select the text to score as a completion first.'));
      return;
    }
    const preview = await service.scoreOne(selectionSample(text));
    if (!preview) {
      void vscode.window.showWarningMessage(
        service.current()?.failure ?? vscode.l10n.t('Nothing to score with: no reward function found.'),
      );
      return;
    }
    void vscode.window.showInformationMessage(describeScores(preview));
  });
  void discovery.whenReady().then(() => service.refresh());
  ctx.register(discovery.onDidChange(() => service.notifyRewardsChanged()));
  return {
    async showDryRun(file, report) {
      panel.show();
      await service.showDryRun(file, report);
    },
  };
}
