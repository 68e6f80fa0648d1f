import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Ctx } from '../../ctx';
import type { DiscoveryService } from '../../discovery/editor/discoveryService';
import { isRewardFuncsEntry, rewardFuncsSpec } from '../core/rewardFuncsEntry';
import { looksLikeRunConfig } from '../../shared/runConfig';
import { checkRunConfig, type TrlSchema } from '../core/configCheck';
import { grpoConfigField } from '../../shared/trlReleases';
import { dataFileProblems } from '../core/preflight';

/**
 * TRL run configs (`trl grpo --config` YAML) in the editor: unknown, removed and mistyped fields
 * as diagnostics (a quick fix for "did you mean"), the installed TRL's help text on hover, field
 * names and, in `reward_funcs:`, the workspace's reward functions on completion. The fields
 * come from schemas/trl-grpo.json, generated from TRL's dataclasses by python/grpo_studio_schema.py.
 */
export function loadTrlSchema(ctx: Ctx): TrlSchema {
  return JSON.parse(
    fs.readFileSync(vscode.Uri.joinPath(ctx.extension.extensionUri, 'schemas', 'trl-grpo.json').fsPath, 'utf8'),
  ) as TrlSchema;
}

export function registerRunConfigSupport(ctx: Ctx, schema: TrlSchema, ownFields: ReadonlySet<string>, discovery: DiscoveryService): void {
  const diagnostics = ctx.register(vscode.languages.createDiagnosticCollection('grpo-studio-config'));
  const selector: vscode.DocumentSelector = [{ language: 'yaml', scheme: 'file' }];
  const isRunConfig = (doc: vscode.TextDocument) => doc.languageId === 'yaml' && looksLikeRunConfig(doc.getText());

  const check = (doc: vscode.TextDocument) => {
    if (!isRunConfig(doc)) {
      diagnostics.delete(doc.uri);
      return;
    }
    // Runs start from the config's workspace folder (relative paths are tried from there, then next to the config).
    const cwd = vscode.workspace.getWorkspaceFolder(doc.uri)?.uri.fsPath ?? path.dirname(doc.uri.fsPath);
    const problems = [
      ...checkRunConfig(doc.getText(), schema, ownFields, vscode.l10n, discovery.trl),
      ...dataFileProblems(doc.getText(), doc.uri.fsPath, cwd, vscode.l10n),
    ];
    diagnostics.set(
      doc.uri,
      problems.map((p) => {
        const range = new vscode.Range(p.range.start.line, p.range.start.character, p.range.end.line, p.range.end.character);
        const diagnostic = new vscode.Diagnostic(
          range,
          p.message,
          p.severity === 'error' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning,
        );
        diagnostic.source = `GRPO Studio (TRL ${discovery.trl.version})`;
        return diagnostic;
      }),
    );
  };
  vscode.workspace.textDocuments.forEach(check);
  // The TRL release in use may change (a new pin, another interpreter): the verdicts follow it.
  let checkedFor = discovery.trl.version;
  ctx.register(
    discovery.onDidChange(() => {
      if (discovery.trl.version === checkedFor) return;
      checkedFor = discovery.trl.version;
      vscode.workspace.textDocuments.forEach(check);
    }),
  );
  ctx.register(vscode.workspace.onDidOpenTextDocument(check));
  ctx.register(vscode.workspace.onDidChangeTextDocument((event) => check(event.document)));
  ctx.register(vscode.workspace.onDidCloseTextDocument((doc) => diagnostics.delete(doc.uri)));

  ctx.register(
    vscode.languages.registerHoverProvider(selector, {
      provideHover(doc, position) {
        if (!isRunConfig(doc)) return undefined;
        const match = /^(\w+)\s*:/.exec(doc.lineAt(position.line).text);
        const field = match && schema.fields[match[1]];
        if (!match || !field || position.character > match[1].length) return undefined;
        const md = new vscode.MarkdownString();
        md.appendMarkdown(`**${match[1]}** \`${field.type}\` — ${field.group} (TRL ${schema.trl})\n\n`);
        if (field.help) md.appendText(`${field.help}\n\n`);
        md.appendMarkdown(`${vscode.l10n.t('Default')}: \`${JSON.stringify(field.default)}\``);
        const inRelease = grpoConfigField(match[1], discovery.trl.version);
        if (inRelease?.state === 'present' && JSON.stringify(inRelease.default) !== JSON.stringify(field.default)) {
          md.appendMarkdown(
            `\n\n${vscode.l10n.t('Default in TRL {0} ({1})', discovery.trl.version, discovery.trl.source)}: \`${JSON.stringify(inRelease.default)}\``,
          );
        }
        return new vscode.Hover(md, new vscode.Range(position.line, 0, position.line, match[1].length));
      },
    }),
  );

  ctx.register(
    vscode.languages.registerCodeActionsProvider(
      selector,
      {
        provideCodeActions(doc, range) {
          if (!isRunConfig(doc)) return [];
          return checkRunConfig(doc.getText(), schema, ownFields, vscode.l10n, discovery.trl).flatMap((p) => {
            const at = new vscode.Range(p.range.start.line, p.range.start.character, p.range.end.line, p.range.end.character);
            if (!p.replacement || !at.intersection(range)) return [];
            const fix = new vscode.CodeAction(vscode.l10n.t("Change to '{0}'", p.replacement), vscode.CodeActionKind.QuickFix);
            fix.edit = new vscode.WorkspaceEdit();
            fix.edit.replace(doc.uri, at, p.replacement);
            fix.isPreferred = true;
            return [fix];
          });
        },
      },
      { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] },
    ),
  );

  // In `reward_funcs:`, the rewards discovery found, written as the runner finds them.
  ctx.register(
    vscode.languages.registerCompletionItemProvider(
      selector,
      {
        provideCompletionItems(doc, position) {
          const lines = doc.getText().split(/\r?\n/);
          if (!isRunConfig(doc) || !isRewardFuncsEntry(lines, position.line)) return undefined;
          const dir = path.dirname(doc.uri.fsPath);
          // Everything after the indentation's `-` (or the indentation) is the entry: `- <spec>`, one space.
          const line = lines[position.line];
          const dash = /^\s*-/.exec(line);
          const start = dash ? dash[0].length : (/^\s*/.exec(line)?.[0].length ?? 0);
          const replace = new vscode.Range(position.line, start, position.line, line.length);
          return discovery.report.rewards
            .filter((r) => r.handle && r.kind !== 'model')
            .map((reward, i) => {
              const spec = rewardFuncsSpec(reward.handle!.file, reward.handle!.attr, dir);
              const item = new vscode.CompletionItem(spec, vscode.CompletionItemKind.Function);
              item.detail = `${reward.name} — ${vscode.workspace.asRelativePath(reward.file)}:${reward.range.start.line + 1}`;
              const errors = reward.problems.filter((p) => p.severity === 'error');
              item.documentation = errors.length
                ? errors.map((p) => `${p.code}: ${p.message}`).join('\n')
                : vscode.l10n.t('GRPOTrainer can call this reward function.');
              item.insertText = dash ? ` ${spec}` : `- ${spec}`;
              item.filterText = `${dash ? '' : '-'} ${spec}`;
              item.range = replace;
              // Callable ones first, in discovery's order.
              item.sortText = `${errors.length ? 1 : 0}${String(i).padStart(5, '0')}`;
              return item;
            });
        },
      },
      '-',
      ' ',
    ),
  );

  ctx.register(
    vscode.languages.registerCompletionItemProvider(selector, {
      provideCompletionItems(doc, position) {
        if (!isRunConfig(doc) || !/^\w*$/.test(doc.lineAt(position.line).text.slice(0, position.character))) return undefined;
        return Object.entries(schema.fields).map(([name, field]) => {
          const item = new vscode.CompletionItem(name, vscode.CompletionItemKind.Property);
          item.detail = `${field.type} = ${JSON.stringify(field.default)} (${field.group})`;
          item.documentation = field.help;
          item.insertText = `${name}: `;
          return item;
        });
      },
    }),
  );
}
