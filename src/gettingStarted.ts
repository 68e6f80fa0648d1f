import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Ctx } from './ctx';

/** The example the extension ships, its generated models left out (examples/emoji-length/README.md builds them). */
const EXAMPLE = path.join('examples', 'emoji-length');
/** The snippet of snippets/python.json that "GRPO: New Reward Function" inserts. */
const REWARD_SNIPPET = 'GRPO reward function';

/** The walkthrough's commands: a new reward function, the example workspace, the guide. */
export function registerGettingStarted(ctx: Ctx): void {
  ctx.registerCommand('grpoStudio.newRewardFunction', () => insertRewardFunction(ctx));

  ctx.registerCommand('grpoStudio.openExample', async () => {
    const parent = (
      await vscode.window.showOpenDialog({
        canSelectFolders: true,
        canSelectFiles: false,
        openLabel: vscode.l10n.t('Create the Example Here'),
        title: vscode.l10n.t('A folder to create the example workspace in'),
      })
    )?.[0];
    if (!parent) return;
    let target = path.join(parent.fsPath, 'grpo-studio-example');
    for (let n = 2; fs.existsSync(target); n++) target = path.join(parent.fsPath, `grpo-studio-example-${n}`);
    const source = path.join(ctx.extension.extensionPath, EXAMPLE);
    try {
      fs.cpSync(source, target, { recursive: true, filter: (file) => path.relative(source, file).split(path.sep)[0] !== 'models' });
    } catch (error) {
      void vscode.window.showErrorMessage(
        vscode.l10n.t('GRPO: the example could not be created in {0}: {1}', target, (error as Error).message),
      );
      return;
    }
    await vscode.commands.executeCommand('vscode.openFolder', vscode.Uri.file(target));
  });

  ctx.registerCommand('grpoStudio.openDocs', () => {
    // vsce stores the README as readme.md.
    const readme = ['README.md', 'readme.md'].map((name) => path.join(ctx.extension.extensionPath, name)).find((f) => fs.existsSync(f));
    if (readme) void vscode.commands.executeCommand('markdown.showPreview', vscode.Uri.file(readme));
  });
}

/** At the cursor on an empty line of a Python editor, else below its last line; in a new file when none is open. */
async function insertRewardFunction(ctx: Ctx): Promise<void> {
  const snippets = JSON.parse(fs.readFileSync(path.join(ctx.extension.extensionPath, 'snippets', 'python.json'), 'utf8')) as Record<
    string,
    { body: string[] }
  >;
  const body = snippets[REWARD_SNIPPET].body.join('\n');
  let editor = vscode.window.activeTextEditor;
  if (editor?.document.languageId !== 'python') {
    const document = await vscode.workspace.openTextDocument({ language: 'python', content: '' });
    editor = await vscode.window.showTextDocument(document);
    await editor.insertSnippet(new vscode.SnippetString(body));
    return;
  }
  // PEP 8: two blank lines between top-level functions, none needed at the top of the file.
  const { document, selection } = editor;
  const here = selection.isEmpty && document.lineAt(selection.active.line).isEmptyOrWhitespace;
  const line = here ? selection.active.line : document.lineCount - 1;
  const onNewLine = document.lineAt(line).isEmptyOrWhitespace;
  let above = onNewLine ? line - 1 : line;
  let blanks = 0;
  while (onNewLine && above >= 0 && document.lineAt(above).isEmptyOrWhitespace) {
    blanks++;
    above--;
  }
  const prefix = (onNewLine ? '' : '\n') + (above < 0 ? '' : '\n'.repeat(Math.max(0, 2 - blanks)));
  const at = onNewLine ? document.lineAt(line).range.start : document.lineAt(line).range.end;
  await editor.insertSnippet(new vscode.SnippetString(prefix + body), at);
}
