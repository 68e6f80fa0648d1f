import * as vscode from 'vscode';
import type { Ctx } from '../../ctx';
import { toRange, type DiscoveryService } from './discoveryService';

/** Offers the mechanical fixes the contract check computed (e.g. "Add **kwargs"). */
export function registerQuickFixes(ctx: Ctx, service: DiscoveryService): void {
  const provider: vscode.CodeActionProvider = {
    provideCodeActions(document, _range, context) {
      const actions: vscode.CodeAction[] = [];
      const problems = service.problemsAt(document.uri.fsPath);
      for (const diagnostic of context.diagnostics) {
        if (diagnostic.source !== 'GRPO Studio') continue;
        const problem = problems.find((p) => p.fix && p.code === diagnostic.code && toRange(p.range).isEqual(diagnostic.range));
        if (!problem?.fix) continue;
        const action = new vscode.CodeAction(problem.fix.title, vscode.CodeActionKind.QuickFix);
        action.diagnostics = [diagnostic];
        action.isPreferred = true;
        action.edit = new vscode.WorkspaceEdit();
        for (const edit of problem.fix.edits) action.edit.replace(document.uri, toRange(edit.range), edit.newText);
        actions.push(action);
      }
      return actions;
    },
  };
  ctx.register(
    vscode.languages.registerCodeActionsProvider({ language: 'python', scheme: 'file' }, provider, {
      providedCodeActionKinds: [vscode.CodeActionKind.QuickFix],
    }),
  );
}
