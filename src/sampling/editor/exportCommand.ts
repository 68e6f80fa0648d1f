import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Ctx } from '../../ctx';
import { findInterpreter } from '../../interpreter';
import { PythonScriptError } from '../../shared/pythonProcess';
import { looksLikeRunConfig, readRunConfig, resolveLike, searchDirs } from '../../shared/runConfig';
import { SEARCH_EXCLUDE } from '../../discovery/core/sourceFiles';
import { exportModel, findExport, isTransformersModel } from '../core/onnxExport';

/** Where the exports live: the extension's global storage, shared by every workspace. */
export function exportCache(ctx: Ctx): string {
  return path.join(ctx.extension.globalStorageUri.fsPath, 'onnx-exports');
}

/**
 * "GRPO: Export Model for In-Editor Sampling": a local transformers model (a run config's
 * model_name_or_path, a checkpoint, any saved folder) exported to ONNX by the interpreter's torch,
 * into the cache, so Sample Completions can draw from it without Python.
 */
export function registerExportCommand(ctx: Ctx): void {
  ctx.registerCommand('grpoStudio.exportModelForSampling', async (folderArg?: vscode.Uri | string): Promise<string | undefined> => {
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage(
        vscode.l10n.t('Exporting a model runs Python from this workspace: trust this folder first (Manage Workspace Trust).'),
      );
      return undefined;
    }
    const model = typeof folderArg === 'string' ? folderArg : (folderArg?.fsPath ?? (await pickTransformersModel()));
    if (!model) return undefined;
    if (!isTransformersModel(model)) {
      void vscode.window.showErrorMessage(
        vscode.l10n.t('GRPO: {0} is not a transformers model folder (config.json and its weights).', path.basename(model)),
      );
      return undefined;
    }
    const cache = exportCache(ctx);
    const existing = findExport(cache, model);
    if (existing) {
      offerSampling(vscode.l10n.t('GRPO: {0} is already exported for in-editor sampling.', path.basename(model)), existing);
      return existing;
    }
    const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(model));
    const interpreter = await findInterpreter(ctx.config, folder);
    const started = Date.now();
    const exported = await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: vscode.l10n.t('GRPO: exporting {0} to ONNX', path.basename(model)),
        cancellable: true,
      },
      async (progress, token) => {
        const controller = new AbortController();
        const cancel = token.onCancellationRequested(() => controller.abort());
        try {
          return await exportModel({
            python: interpreter.path,
            script: ctx.pythonScript('exportOnnx'),
            model,
            cacheRoot: cache,
            cwd: folder?.uri.fsPath ?? path.dirname(model),
            signal: controller.signal,
            onOutput: (text) => ctx.output.append(text),
            onProgress: (line) => progress.report({ message: line }),
          });
        } catch (error) {
          if (error instanceof PythonScriptError && error.cancelled) return undefined;
          const message = (error as Error).message;
          ctx.output.error(`[export] ${model} with ${interpreter.path} (${interpreter.source}): ${message}`);
          void vscode.window
            .showErrorMessage(
              vscode.l10n.t('GRPO: exporting {0} failed: {1}', path.basename(model), message.split('\n').at(-1) ?? ''),
              vscode.l10n.t('Show Output'),
            )
            .then((choice) => choice && ctx.output.show());
          return undefined;
        } finally {
          cancel.dispose();
        }
      },
    );
    if (!exported) return undefined;
    ctx.output.info(`[export] ${model} -> ${exported} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    offerSampling(
      vscode.l10n.t(
        'GRPO: {0} is exported for in-editor sampling ({1} s).',
        path.basename(model),
        ((Date.now() - started) / 1000).toFixed(0),
      ),
      exported,
    );
    return exported;
  });
}

function offerSampling(message: string, exported: string): void {
  const sample = vscode.l10n.t('Sample Completions');
  void vscode.window.showInformationMessage(message, sample).then((choice) => {
    if (choice === sample) void vscode.commands.executeCommand('grpoStudio.sampleCompletions', exported);
  });
}

/** The models the workspace's run configs train, then Browse…. */
async function pickTransformersModel(): Promise<string | undefined> {
  const models = new Map<string, string>();
  for (const uri of await vscode.workspace.findFiles('**/*.{yaml,yml}', SEARCH_EXCLUDE, 200)) {
    let text: string;
    try {
      text = fs.readFileSync(uri.fsPath, 'utf8');
    } catch {
      continue;
    }
    if (!looksLikeRunConfig(text)) continue;
    let name: unknown;
    try {
      name = readRunConfig(uri.fsPath).model_name_or_path;
    } catch {
      continue; // Not valid YAML: the config check reports it.
    }
    if (typeof name !== 'string') continue;
    const folder = vscode.workspace.getWorkspaceFolder(uri)?.uri.fsPath ?? path.dirname(uri.fsPath);
    const dir = path.resolve(resolveLike(name, searchDirs(folder, uri.fsPath)));
    if (isTransformersModel(dir) && !models.has(dir)) models.set(dir, path.basename(uri.fsPath));
  }
  const items = [...models].map(([dir, config]) => ({
    label: path.basename(dir),
    description: vscode.l10n.t('{0} · the model of {1}', vscode.workspace.asRelativePath(dir), config),
    dir,
  }));
  items.push({ label: vscode.l10n.t('Browse…'), description: vscode.l10n.t('a folder with config.json and the weights'), dir: '' });
  const picked = await vscode.window.showQuickPick(items, { placeHolder: vscode.l10n.t('Model to export for in-editor sampling') });
  if (!picked) return undefined;
  if (picked.dir) return picked.dir;
  const chosen = await vscode.window.showOpenDialog({
    canSelectFolders: true,
    canSelectFiles: false,
    openLabel: vscode.l10n.t('Export this model'),
  });
  return chosen?.[0]?.fsPath;
}
