import * as vscode from 'vscode';
import type { Ctx } from '../../ctx';
import type { DiscoveryService } from '../../discovery/editor/discoveryService';
import { InlineScores } from './inlineScores';
import { describeScores, SampleLenses, selectionSample } from './lenses';
import { RewardPreviewPanel } from './rewardPreviewPanel';
import { isPreviewableReward, PreviewService } from './previewService';
import { sameSource, withRewardWeights } from '../core/previewSource';
import type { DryRunReport } from '../core/rewardPreviewProtocol';

/** What other capabilities may ask of the previews. */
export interface Previews {
  /** Shows a dry run's saved sample set in the Reward Preview panel, its signal report on top. */
  showDryRun(file: string, report: DryRunReport): Promise<void>;
  /** Stops showing a dry run whose saved set was removed (it was cancelled, or failed, after its first group). */
  forgetDryRun(file: string): Promise<void>;
}

/** Live reward previews: inline numbers, "Score this completion", the Reward Preview panel. */
export function activatePreviews(ctx: Ctx, discovery: DiscoveryService): Previews {
  const service = ctx.register(new PreviewService(ctx, discovery));
  ctx.register(new InlineScores(service, () => ctx.config.previewInline));
  const lenses = ctx.register(new SampleLenses(service, () => ctx.config.previewSampleLenses));
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
  ctx.registerCommand('grpoStudio.chooseRewardPreviewSource', () => chooseSource(service));
  ctx.registerCommand('grpoStudio.writePreviewWeights', () => writeWeights(service));
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
    forgetDryRun: (file) => service.forgetDryRun(file),
  };
}

async function chooseSource(service: PreviewService): Promise<void> {
  const current = service.source();
  const items = service.sources().map((source) => {
    const names = service.sourceRewards(source).map((r) => r.name);
    return {
      source,
      label:
        source.kind === 'workspace' ? vscode.l10n.t('All rewards wired in the workspace') : vscode.workspace.asRelativePath(source.file),
      description: sameSource(source, current) ? vscode.l10n.t('shown now') : undefined,
      detail: names.join(', '),
    };
  });
  const picked = await vscode.window.showQuickPick(items, { placeHolder: vscode.l10n.t('Whose rewards should the preview total?') });
  if (picked) service.chooseSource(picked.source);
}

/** The panel's weights into the source config's reward_weights: one edit, undoable. */
async function writeWeights(service: PreviewService): Promise<void> {
  const source = service.source();
  const panelWeights = service.options.weights;
  if (source.kind !== 'config' || !panelWeights) {
    void vscode.window.showInformationMessage(
      vscode.l10n.t("The preview totals no run config, or its weights are the config's: nothing to write."),
    );
    return;
  }
  const ordered = service.sourceRewards(source);
  const previous = service.sourceSettings(source, ordered).weights;
  let next = 0;
  // Rewards the preview cannot run (a TRL built-in, a model id) keep their weight.
  const weights = ordered.map((r, k) => (isPreviewableReward(r) ? panelWeights[next++] : (previous?.[k] ?? 1)));
  const document = await vscode.workspace.openTextDocument(vscode.Uri.file(source.file));
  const text = document.getText();
  const edit = new vscode.WorkspaceEdit();
  edit.replace(document.uri, new vscode.Range(document.positionAt(0), document.positionAt(text.length)), withRewardWeights(text, weights));
  if (await vscode.workspace.applyEdit(edit)) {
    await document.save();
    void vscode.window.showInformationMessage(
      vscode.l10n.t('reward_weights: [{0}] written to {1}', weights.join(', '), vscode.workspace.asRelativePath(source.file)),
    );
  }
}
