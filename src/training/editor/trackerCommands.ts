import { execFile } from 'node:child_process';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { findInterpreter } from '../../interpreter';
import { runLocation, type RunState } from '../core/runs';
import { tensorBoardFiles } from '../core/tensorboard';
import { parseTrackioRunId, TRACKIO_DB_EXTENSION } from '../core/trackio';
import { pickRun, type TrainingContext } from './trainingContext';

/**
 * "Open in TensorBoard" and "Open in Trackio": what `report_to` wrote, in the logger's own UI,
 * next to the dashboard. Each runs in a terminal of its own (no shell: the interpreter is the
 * terminal's process), with the interpreter's logger, which must be installed there.
 */
export function registerTrackerCommands({ ctx, service }: TrainingContext): void {
  const interpreterWith = async (run: RunState, module: string): Promise<string | undefined> => {
    const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(runLocation(run.dir)));
    const python = (await findInterpreter(ctx.config, folder ?? vscode.workspace.workspaceFolders?.[0])).path;
    const installed = await new Promise<boolean>((resolve) =>
      execFile(python, ['-c', `import ${module}`], { timeout: 60_000 }, (error) => resolve(!error)),
    );
    if (installed) return python;
    void vscode.window.showErrorMessage(
      vscode.l10n.t('{0} is not installed in {1}: pip install {0} there, or choose another interpreter.', module, python),
    );
    return undefined;
  };
  const openTerminal = (name: string, python: string, args: string[], env?: Record<string, string>) => {
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage(vscode.l10n.t('This runs a Python program: trust this folder first (Manage Workspace Trust).'));
      return;
    }
    vscode.window.createTerminal({ name, shellPath: python, shellArgs: args, env }).show();
  };

  ctx.registerCommand('grpoStudio.openInTensorBoard', async (run?: RunState) => {
    const target = await pickRun(service, run, (r) => tensorBoardFiles(runLocation(r.dir)).length > 0);
    if (!target) {
      void vscode.window.showInformationMessage(
        vscode.l10n.t('No run with TensorBoard event files: train with report_to: tensorboard to write them.'),
      );
      return;
    }
    const logdir = runLocation(target.dir);
    if (tensorBoardFiles(logdir).length === 0) {
      void vscode.window.showInformationMessage(
        vscode.l10n.t('{0} has no TensorBoard event files: train with report_to: tensorboard to write them.', target.name),
      );
      return;
    }
    const python = await interpreterWith(target, 'tensorboard');
    if (python) openTerminal(`TensorBoard: ${target.name}`, python, ['-m', 'tensorboard.main', '--logdir', logdir]);
  });

  ctx.registerCommand('grpoStudio.openInTrackio', async (run?: RunState) => {
    const target = await pickRun(service, run, (r) => parseTrackioRunId(r.dir) !== undefined);
    const trackio = target && parseTrackioRunId(target.dir);
    if (!target || !trackio) {
      void vscode.window.showInformationMessage(
        vscode.l10n.t('No Trackio run is open: GRPO: Open Trackio Run... lists the runs of your Trackio projects.'),
      );
      return;
    }
    const python = await interpreterWith(target, 'trackio');
    if (!python) return;
    // The project's own folder, wherever it is (one synced from a cluster, say).
    openTerminal(
      `Trackio: ${target.name}`,
      python,
      ['-m', 'trackio.cli', 'show', '--project', path.basename(trackio.db, TRACKIO_DB_EXTENSION)],
      { TRACKIO_DIR: path.dirname(trackio.db) },
    );
  });
}
