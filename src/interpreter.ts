import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Config } from './config';

export interface Interpreter {
  path: string;
  /** Where it came from, for the user: "grpoStudio.pythonPath", "Python extension", ".venv", "python3 on PATH". */
  source: string;
}

/**
 * The Python that runs the user's reward code: the `grpoStudio.pythonPath` setting, else the
 * interpreter selected in the Python extension (its published API), else the workspace's
 * `.venv`, else `python3` on PATH.
 */
export async function findInterpreter(
  config: Config,
  folder: vscode.WorkspaceFolder | undefined,
  { askPythonExtension = true }: { askPythonExtension?: boolean } = {},
): Promise<Interpreter> {
  const configured = config.pythonPath?.replace('${workspaceFolder}', folder?.uri.fsPath ?? '');
  if (configured) {
    // A relative path with a folder part (`.venv/bin/python`) is taken from the workspace folder;
    // a bare name (`python3.11`) is looked up on PATH by the system.
    const resolved =
      folder && !path.isAbsolute(configured) && configured.includes('/') ? path.join(folder.uri.fsPath, configured) : configured;
    return { path: resolved, source: 'grpoStudio.pythonPath' };
  }
  if (askPythonExtension && vscode.extensions.getExtension('ms-python.python')) {
    try {
      const { PythonExtension } = await import('@vscode/python-extension');
      const api = await PythonExtension.api();
      const selected = api.environments.getActiveEnvironmentPath(folder?.uri);
      const resolved = await api.environments.resolveEnvironment(selected);
      const executable = resolved?.executable.uri?.fsPath;
      if (executable) return { path: executable, source: vscode.l10n.t('the Python extension') };
    } catch {
      // Fall through: the Python extension is installed but not usable.
    }
  }
  if (folder) {
    const venv = path.join(folder.uri.fsPath, '.venv', process.platform === 'win32' ? 'Scripts/python.exe' : 'bin/python');
    if (fs.existsSync(venv)) return { path: venv, source: '.venv' };
  }
  return { path: process.platform === 'win32' ? 'python' : 'python3', source: vscode.l10n.t('python3 on PATH') };
}
