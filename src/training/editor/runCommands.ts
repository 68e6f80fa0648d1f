import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { EVENTS_FILE, readRun, runLocation, type RunState } from '../core/runs';
import {
  parseTrackioRunId,
  trackioReportFile,
  TRACKIO_RUN_SEPARATOR,
  trackioDirectory,
  trackioProjects,
  trackioRuns,
} from '../core/trackio';
import { renderRunReport } from '../core/report';
import { writeFileAtomically } from '../../shared/files';
import { isTrlOutputFolder } from '../core/trlOutput';
import { pickRun, type TrainingContext } from './trainingContext';

/** Commands on runs that exist: stop, open the dashboard, overlay runs, reveal, delete. */
export function registerRunCommands({ ctx, service, dashboard }: TrainingContext): void {
  /** Lists a run made elsewhere and shows it, with what its files lack. */
  const openInDashboard = async (dir: string) => {
    const run = await service.open(dir);
    if (!run) return;
    dashboard.show([run]);
    const notes = service.notesOf(dir);
    if (notes.length) void vscode.window.showInformationMessage(`${run.name}: ${notes.join('; ')}`);
  };
  ctx.registerCommand('grpoStudio.stopRun', async (run?: RunState) => {
    const target = await pickRun(service, run, (r) => r.status === 'running' && !r.external);
    if (target) await service.stop(target.dir);
  });
  ctx.registerCommand('grpoStudio.openDashboard', async (run?: RunState) => {
    const target = await pickRun(service, run);
    if (target) dashboard.show([target]);
    else void vscode.window.showInformationMessage(vscode.l10n.t('No training runs yet: GRPO: Train starts one.'));
  });
  ctx.registerCommand('grpoStudio.compareRuns', async () => {
    const picked = await vscode.window.showQuickPick(
      service.runs.map((r) => ({ label: r.name, description: r.status, run: r })),
      { canPickMany: true, placeHolder: vscode.l10n.t('Runs to overlay (e.g. full fine-tune and LoRA)') },
    );
    if (picked?.length) dashboard.show(picked.map((p) => p.run));
  });
  ctx.registerCommand('grpoStudio.openRunFolder', async (uri?: vscode.Uri) => {
    const folder =
      uri ??
      (
        await vscode.window.showOpenDialog({
          canSelectFolders: true,
          canSelectFiles: false,
          openLabel: vscode.l10n.t('Open Run'),
          title: vscode.l10n.t('A GRPO Studio run folder, or a TRL output folder (trainer_state.json, completions/*.parquet)'),
        })
      )?.[0];
    if (!folder) return;
    const dir = folder.fsPath;
    if (!fs.existsSync(path.join(dir, EVENTS_FILE)) && !isTrlOutputFolder(dir)) {
      void vscode.window.showErrorMessage(
        vscode.l10n.t(
          '{0} is neither a GRPO Studio run folder (events.jsonl) nor a TRL output folder (trainer_state.json in it or in a checkpoint-N folder, or completions/*.parquet). Pick the output_dir of the run.',
          dir,
        ),
      );
      return;
    }
    await openInDashboard(dir);
  });
  ctx.registerCommand('grpoStudio.openTrackioRun', async () => {
    const dir = trackioDirectory();
    const browse = { label: `$(folder-opened) ${vscode.l10n.t('Browse for a Trackio project (.db)...')}`, run: undefined };
    const runs = (
      await Promise.all(
        trackioProjects(dir).map(async (db) => {
          try {
            return await trackioRuns(db);
          } catch (error) {
            ctx.output.warn(`Trackio project ${db} cannot be read: ${(error as Error).message}`);
            return [];
          }
        }),
      )
    ).flat();
    const items = runs
      .sort((a, b) => b.created - a.created)
      .map((run) => ({
        label: run.name,
        description: run.project,
        detail: new Date(run.created * 1000).toLocaleString(),
        run,
      }));
    const picked = await vscode.window.showQuickPick([...items, browse], {
      placeHolder: items.length
        ? vscode.l10n.t('A run of a Trackio project in {0}', dir)
        : vscode.l10n.t('No Trackio projects in {0} (TRACKIO_DIR, else HF_HOME/trackio)', dir),
      matchOnDescription: true,
    });
    if (!picked) return;
    let run = picked.run;
    if (!run) {
      const file = (
        await vscode.window.showOpenDialog({
          canSelectMany: false,
          filters: { [vscode.l10n.t('Trackio project')]: ['db'] },
          openLabel: vscode.l10n.t('Open Run'),
        })
      )?.[0];
      if (!file) return;
      let inProject;
      try {
        inProject = await trackioRuns(file.fsPath);
      } catch (error) {
        void vscode.window.showErrorMessage(
          vscode.l10n.t('{0} cannot be read as a Trackio project: {1}', file.fsPath, (error as Error).message),
        );
        return;
      }
      const choice =
        inProject.length === 1
          ? { run: inProject[0] }
          : await vscode.window.showQuickPick(
              inProject.map((r) => ({ label: r.name, detail: new Date(r.created * 1000).toLocaleString(), run: r })),
              { placeHolder: vscode.l10n.t('A run of {0}', path.basename(file.fsPath)) },
            );
      run = choice?.run;
      if (!run) return;
    }
    await openInDashboard(`${run.db}${TRACKIO_RUN_SEPARATOR}${run.name}`);
  });
  ctx.registerCommand('grpoStudio.exportReport', async (run?: RunState) => {
    const target = await pickRun(service, run);
    if (!target) return;
    // A Trackio project lives in Trackio's cache, shared by all its runs: its report goes to the workspace.
    const trackio = parseTrackioRunId(target.dir);
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    const file = trackio ? path.join(folder ?? path.dirname(trackio.db), trackioReportFile(trackio)) : path.join(target.dir, 'report.html');
    try {
      const { events, notes } = await readRun(target.dir);
      writeFileAtomically(file, renderRunReport(events, target.name, notes));
    } catch (error) {
      void vscode.window.showErrorMessage(
        vscode.l10n.t('GRPO: the report of {0} could not be written: {1}', target.name, (error as Error).message),
      );
      return;
    }
    const open = vscode.l10n.t('Open in Browser');
    const choice = await vscode.window.showInformationMessage(
      vscode.l10n.t(
        'GRPO: report of {0} written to {1} (one self-contained HTML file, to share)',
        target.name,
        vscode.workspace.asRelativePath(file),
      ),
      open,
    );
    if (choice === open) void vscode.env.openExternal(vscode.Uri.file(file));
  });
  ctx.registerCommand('grpoStudio.revealRun', async (run?: RunState) => {
    const target = await pickRun(service, run);
    if (!target) return;
    // In a browser (code-server, vscode.dev) or a remote window, the OS file manager is not the user's: the Explorer is.
    const inExplorer = vscode.env.uiKind === vscode.UIKind.Web || vscode.env.remoteName !== undefined;
    void vscode.commands.executeCommand(inExplorer ? 'revealInExplorer' : 'revealFileInOS', vscode.Uri.file(runLocation(target.dir)));
  });
  ctx.registerCommand('grpoStudio.deleteRun', async (run?: RunState) => {
    const target = await pickRun(service, run);
    if (!target) return;
    const confirm = vscode.l10n.t('Delete');
    const answer = await vscode.window.showWarningMessage(
      vscode.l10n.t('Delete the run {0} with its checkpoints?', target.name),
      { modal: true },
      confirm,
    );
    if (answer !== confirm) return;
    try {
      service.delete(target.dir);
    } catch (error) {
      void vscode.window.showErrorMessage((error as Error).message);
    }
  });
}
