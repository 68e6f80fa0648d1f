import * as vscode from 'vscode';
import type { Ctx } from '../../ctx';
import type { Range } from '../../shared/vocabulary';
import type { DiscoveryService } from './discoveryService';
import { cellOfDocument, editorLocation } from './notebookCells';

/**
 * Offers the mechanical fixes the contract check computed ("Add **kwargs", "Rename 'completion' to
 * 'completions'", "Give 'answer' the default None"), in Python files and in notebook cells.
 */
export function registerQuickFixes(ctx: Ctx, service: DiscoveryService): void {
  const provider: vscode.CodeActionProvider = {
    provideCodeActions(document, _range, context) {
      const file = cellOfDocument(document)?.file ?? document.uri.fsPath;
      const place = (range: Range) => editorLocation(file, range, service.cellOf);
      const actions: vscode.CodeAction[] = [];
      for (const diagnostic of context.diagnostics) {
        if (diagnostic.source !== 'GRPO Studio') continue;
        const problem = service.problemsAt(file).find((p) => {
          const shown = p.fix && p.code === diagnostic.code ? place(p.range) : undefined;
          return shown && shown.uri.toString() === document.uri.toString() && shown.range.isEqual(diagnostic.range);
        });
        if (!problem?.fix) continue;
        const action = new vscode.CodeAction(problem.fix.title, vscode.CodeActionKind.QuickFix);
        action.diagnostics = [diagnostic];
        action.isPreferred = true;
        action.edit = new vscode.WorkspaceEdit();
        for (const edit of problem.fix.edits) {
          const target = place(edit.range);
          if (target) action.edit.replace(target.uri, target.range, edit.newText);
        }
        actions.push(action);
      }
      return actions;
    },
  };
  ctx.register(
    vscode.languages.registerCodeActionsProvider(
      [
        { language: 'python', scheme: 'file' },
        { language: 'python', scheme: 'vscode-notebook-cell' },
      ],
      provider,
      { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] },
    ),
  );
}
