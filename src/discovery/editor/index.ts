import * as vscode from 'vscode';
import { editorLocation, isNotebookFile } from './notebookCells';
import type { Ctx } from '../../ctx';
import { DiscoveryService } from './discoveryService';
import { registerQuickFixes } from './quickFixes';
import { RewardTree } from './rewardTree';
import { RewardStatusBar } from './statusBar';

/** Reward-function discovery and TRL contract checks in the editor. */
export function activateDiscovery(ctx: Ctx): DiscoveryService {
  const service = ctx.register(new DiscoveryService(ctx));
  ctx.register(new RewardTree(service));
  ctx.register(new RewardStatusBar(service));
  registerQuickFixes(ctx, service);
  ctx.registerCommand('grpoStudio.refreshRewardFunctions', () => service.rescan());
  ctx.registerCommand('grpoStudio.showOutput', () => ctx.output.show());
  ctx.registerCommand('grpoStudio.revealRewardFunction', async (file: string, range: vscode.Range) => {
    if (isNotebookFile(file)) {
      const cell = service.cellOf(file, range.start.line);
      const notebook = await vscode.workspace.openNotebookDocument(vscode.Uri.file(file));
      const selections = cell ? [new vscode.NotebookRange(cell.cell, cell.cell + 1)] : undefined;
      await vscode.window.showNotebookDocument(notebook, { selections, preview: true });
      const place = editorLocation(file, range, service.cellOf);
      if (place)
        await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(place.uri), { selection: place.range, preview: true });
      return;
    }
    const editor = await vscode.window.showTextDocument(vscode.Uri.file(file), { selection: range, preview: true });
    editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  });
  void service.start();
  return service;
}
