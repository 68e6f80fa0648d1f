import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { loadPythonParser } from '../../discovery/core/parser';
import { findInterpreter } from '../../interpreter';
import type { Config } from '../../config';
import { looksLikeRunConfig } from '../../shared/runConfig';
import { runPreflight } from '../core/preflight';
import { completeCheckpoints } from '../core/runFolder';
import { runState, type RunSource, type RunState, type ScriptLauncher } from '../core/runs';
import { trainingScriptLines } from '../core/trainingScript';
import { pickRun, type TrainingContext } from './trainingContext';
import { SEARCH_EXCLUDE } from '../../discovery/core/sourceFiles';

/** "GRPO: Train" and "GRPO: Resume Run": the pre-flight, then a detached run with its dashboard. */
export function registerTrainCommands(training: TrainingContext): void {
  const { ctx, service } = training;
  ctx.registerCommand('grpoStudio.train', async (uri?: vscode.Uri) => {
    const file = uri?.fsPath ?? (await pickConfig(undefined, { scripts: true }));
    if (!file) return;
    const source: RunSource = file.endsWith('.py')
      ? { kind: 'script', file, args: ctx.config.scriptArgs(scriptKey(file)), launcher: scriptLauncher(ctx.config, file) }
      : { kind: 'config', file };
    const python = await checkBeforeRun(training, source);
    if (python) startRun(training, source, python);
  });

  ctx.register(vscode.languages.registerCodeLensProvider({ language: 'python', scheme: 'file' }, new TrainingScriptLenses(ctx.config)));

  ctx.registerCommand('grpoStudio.resumeRun', async (run?: RunState) => {
    const target = await pickRun(service, run, (r) => r.status === 'stopped' || r.status === 'failed');
    if (!target) {
      void vscode.window.showInformationMessage(vscode.l10n.t('No stopped or failed run to resume.'));
      return;
    }
    const recorded = service.sourceOf(target.dir);
    // A script resumes with the arguments of its first session, launched as its setting says now.
    const source: RunSource | undefined =
      recorded?.kind === 'script' ? { ...recorded, launcher: scriptLauncher(ctx.config, recorded.file) } : recorded;
    if (!source || !fs.existsSync(source.file)) {
      void vscode.window.showErrorMessage(
        vscode.l10n.t('GRPO: {0} cannot be resumed: the run config it was started with ({1}) is gone.', target.name, source?.file ?? '?'),
      );
      return;
    }
    if (completeCheckpoints(target.dir).length === 0) {
      void vscode.window.showErrorMessage(
        vscode.l10n.t(
          'GRPO: {0} has no checkpoint to resume from (it saves one on Stop and every save_steps); GRPO: Train starts it afresh.',
          target.name,
        ),
      );
      return;
    }
    const python = await checkBeforeRun(training, source);
    if (python) startRun(training, source, python, target.dir);
  });
}

/** "Train" above the line that builds a script's GRPOTrainer and the one that calls its train(). */
class TrainingScriptLenses implements vscode.CodeLensProvider {
  constructor(private readonly config: Config) {}

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const lines = trainingScriptLines(document.getText());
    if (lines?.train === undefined) return [];
    const args = this.config.scriptArgs(scriptKey(document.uri.fsPath));
    const title = args.length
      ? vscode.l10n.t('$(play) Train this script ({0})', args.join(' '))
      : vscode.l10n.t('$(play) Train this script');
    return [...new Set([lines.trainer, lines.train])].map(
      (line) => new vscode.CodeLens(new vscode.Range(line, 0, line, 0), { title, command: 'grpoStudio.train', arguments: [document.uri] }),
    );
  }
}

/** A script's key in grpoStudio.train.scriptArgs and scriptLauncher: its path relative to its workspace folder. */
function scriptKey(file: string): string {
  return vscode.workspace.asRelativePath(file, false);
}

/** The script's launcher setting, its accelerate config taken from the script's workspace folder. */
function scriptLauncher(config: Config, file: string): ScriptLauncher {
  const launcher = config.scriptLauncher(scriptKey(file));
  const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(file))?.uri.fsPath ?? path.dirname(file);
  return { ...launcher, accelerateConfig: launcher.accelerateConfig && path.resolve(folder, launcher.accelerateConfig) };
}

/**
 * The pre-flight (training/core/preflight.ts), shown where the user is looking: a reward or config
 * error opens its line, other errors come as one notification. The interpreter to train with, or
 * undefined when the run cannot start.
 */
export async function checkBeforeRun(training: TrainingContext, source: RunSource): Promise<string | undefined> {
  const config = source.file;
  const { ctx, discovery, schema } = training;
  if (!vscode.workspace.isTrusted) {
    void vscode.window.showWarningMessage(vscode.l10n.t('Training runs your code: trust this folder first (Manage Workspace Trust).'));
    return undefined;
  }
  await discovery.whenReady();
  const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(config));
  const interpreter = await findInterpreter(ctx.config, folder);
  const root = folder?.uri.fsPath ?? path.dirname(config);
  let result;
  try {
    result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('GRPO: checking {0}', interpreter.path) },
      async () =>
        runPreflight({
          configFile: config,
          script: source.kind === 'script',
          python: interpreter.path,
          pythonSource: interpreter.source,
          cwd: root,
          roots: [root],
          runsDir: path.join(root, 'runs'),
          schema,
          parser: await loadPythonParser(ctx.distPath),
          l10n: vscode.l10n,
          rewards: discovery.report.rewards,
          trl: discovery.trl,
        }),
    );
  } catch (error) {
    void vscode.window.showErrorMessage(vscode.l10n.t('GRPO: {0} does not run: {1}', interpreter.path, (error as Error).message));
    return undefined;
  }
  for (const finding of result.findings) ctx.output.appendLine(`[pre-flight] ${finding.severity}: ${finding.message}`);
  if (result.env) ctx.output.appendLine(`[pre-flight] ${interpreter.path} (${interpreter.source}): ${JSON.stringify(result.env.versions)}`);
  const errors = result.findings.filter((f) => f.severity === 'error');
  if (errors.length === 0) return interpreter.path;
  const located = errors.find((f) => f.location);
  if (located?.location) {
    const { start, end } = located.location.range;
    await vscode.window.showTextDocument(vscode.Uri.file(located.location.file), {
      selection: new vscode.Range(start.line, start.character, end.line, end.character),
    });
    void vscode.window.showErrorMessage(vscode.l10n.t('GRPO: cannot start: {0}', errors.map((e) => e.message).join(' ')));
    return undefined;
  }
  void vscode.window
    .showErrorMessage(vscode.l10n.t('GRPO: cannot start: {0}', errors.map((e) => e.message).join('; ')), vscode.l10n.t('Show Output'))
    .then((choice) => {
      if (choice) ctx.output.show();
    });
  return undefined;
}

/** Starts (or resumes) a run, shows its dashboard, and a progress notification until its first step. */
export function startRun(training: TrainingContext, source: RunSource, python: string, resumeDir?: string): void {
  const { ctx, service, dashboard } = training;
  const config = source.file;
  let runDir: string;
  try {
    runDir = service.start(source, python, { resumeDir });
  } catch (error) {
    void vscode.window.showErrorMessage(vscode.l10n.t('GRPO: cannot start: {0}', (error as Error).message));
    return;
  }
  ctx.output.info(`${resumeDir ? 'Resuming' : 'Training'} ${config} in ${runDir} with ${python}`);
  dashboard.show([service.runs.find((r) => r.dir === runDir) ?? runState(runDir)]);
  const title = resumeDir
    ? vscode.l10n.t('GRPO: loading the latest checkpoint of {0}', path.basename(runDir))
    : vscode.l10n.t('GRPO: loading the model and starting {0}', path.basename(runDir));
  // Until the first step, or until the runner is gone (a config error, out of memory while loading).
  void vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title },
    () =>
      new Promise<void>((resolve) => {
        const subscriptions: vscode.Disposable[] = [];
        const done = () => {
          for (const subscription of subscriptions) subscription.dispose();
          resolve();
        };
        subscriptions.push(
          service.onEvents(({ dir, events }) => {
            if (dir === runDir && events.some((e) => e.event === 'log' || e.event === 'end')) done();
          }),
          service.onDidChange(() => {
            if (service.runs.find((r) => r.dir === runDir)?.status === 'failed') done(); // RunFailureNotifier says why
          }),
        );
      }),
  );
}

/** YAML files of the workspace that look like TRL run configs (and, with `scripts`, .py files that build a GRPOTrainer). */
export async function pickConfig(
  placeHolder = vscode.l10n.t('Run config or training script to train with'),
  { scripts = false } = {},
): Promise<string | undefined> {
  const uris = await vscode.workspace.findFiles(scripts ? '**/*.{yaml,yml,py}' : '**/*.{yaml,yml}', SEARCH_EXCLUDE, 400);
  const configs: string[] = [];
  for (const uri of uris) {
    const text = (await vscode.workspace.fs.readFile(uri)).toString();
    if (uri.fsPath.endsWith('.py') ? trainingScriptLines(text)?.train !== undefined : looksLikeRunConfig(text)) configs.push(uri.fsPath);
  }
  if (configs.length === 0) {
    void vscode.window.showInformationMessage(
      scripts
        ? vscode.l10n.t(
            'No run config or training script found: a TRL YAML config with model_name_or_path and reward_funcs (as `trl grpo --config` reads), or a .py file that builds a GRPOTrainer and calls train().',
          )
        : vscode.l10n.t('No run config found: a TRL YAML config with model_name_or_path and reward_funcs (as `trl grpo --config` reads).'),
    );
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    configs.map((file) => ({ label: path.basename(file), description: vscode.workspace.asRelativePath(path.dirname(file)), file })),
    { placeHolder },
  );
  return picked?.file;
}
