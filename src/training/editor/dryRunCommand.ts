import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { PythonScriptError } from '../../shared/pythonProcess';
import { looksLikeRunConfig } from '../../shared/runConfig';
import { dryRunSampleSet, dryRunVerdict, runDryRunScript } from '../core/dryRunScript';
import { inEditorDryRunPlan, runInEditorDryRun } from '../../sampling/editor/inEditorDryRun';
import { checkBeforeRun, pickConfig } from './trainCommands';
import type { TrainingContext } from './trainingContext';
import type { DryRunStep } from '../../scoring/signal';

const PROMPTS = 8;

/**
 * "GRPO: Dry Run" (palette, explorer, and a lens on run configs): TRL's first generation step on
 * the config's own model and data, without training; or, when the model has an ONNX export and
 * `grpoStudio.dryRun.sampler` is `auto`, the same step sampled in the editor and scored by the
 * rewards. The completions are saved as a sample set (so every later save of a reward re-scores
 * them) and shown in the Reward Preview panel with the signal report on top.
 */
export function registerDryRun(training: TrainingContext): void {
  const { ctx } = training;
  ctx.registerCommand('grpoStudio.dryRun', async (configUri?: vscode.Uri) => {
    const config = configUri?.fsPath ?? (await pickConfig(vscode.l10n.t('Run config to dry-run')));
    if (!config) return;
    const python = await checkBeforeRun(training, { kind: 'config', file: config });
    if (python) await dryRun(training, config, python);
  });
  ctx.register(vscode.languages.registerCodeLensProvider({ pattern: '**/*.{yaml,yml}', scheme: 'file' }, new RunConfigLenses()));
}

async function dryRun(training: TrainingContext, config: string, python: string): Promise<void> {
  const { ctx, previews, discovery } = training;
  const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(config))?.uri.fsPath ?? path.dirname(config);
  await discovery.whenReady();
  const plan = ctx.config.dryRunSampler === 'auto' ? inEditorDryRunPlan(ctx, config, folder, discovery.report.rewards) : undefined;
  const inEditor = plan && 'exportDir' in plan ? plan : undefined;
  if (plan && 'reason' in plan) ctx.output.info(`[dry run] ${config}: sampled by TRL in Python (${plan.reason})`);
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const file = path.join(folder, 'dry-runs', `${path.basename(config).replace(/\.ya?ml$/i, '')}-${stamp}.samples.jsonl`);
  /** Saves `step` as the sample set and shows it under its signal report. */
  const present = async (step: DryRunStep, firstGroupOf?: number) => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, dryRunSampleSet(step));
    const { signal, drivers, findings } = dryRunVerdict(step, config, vscode.l10n);
    if (!firstGroupOf)
      ctx.output.info(`[dry run] ${config}: ${file}; ${findings.map((f) => `${f.code} ${f.message}`).join(' | ') || 'no findings'}`);
    await vscode.window.showTextDocument(vscode.Uri.file(file), { viewColumn: vscode.ViewColumn.One, preview: false });
    await previews.showDryRun(file, {
      config: vscode.workspace.asRelativePath(config),
      model: step.model,
      numGenerations: step.num_generations,
      maxCompletionLength: step.max_completion_length,
      sampledBy: inEditor ? 'onnx' : 'trl',
      signal,
      drivers,
      findings,
      firstGroupOf,
    });
  };
  const step = await vscode.window.withProgress(
    {
      location: vscode.ProgressLocation.Notification,
      title: inEditor
        ? vscode.l10n.t('GRPO: dry run of {0} in the editor ({1})', path.basename(config), path.basename(inEditor.modelDir))
        : vscode.l10n.t('GRPO: dry run of {0}', path.basename(config)),
      cancellable: true,
    },
    async (progress, token) => {
      const controller = new AbortController();
      token.onCancellationRequested(() => controller.abort());
      try {
        if (inEditor) {
          return await runInEditorDryRun({
            ctx,
            rewards: discovery.report.rewards,
            python,
            config,
            folder,
            plan: inEditor,
            prompts: PROMPTS,
            trlVersion: discovery.trl.version,
            progress,
            token,
            onFirstGroup: (first, prompts) => present(first, prompts),
          });
        }
        return await runDryRunScript({
          python,
          script: ctx.pythonScript('dryRun'),
          config,
          prompts: PROMPTS,
          cwd: folder,
          onProgress: (line) => progress.report({ message: line }),
          signal: controller.signal,
        });
      } catch (error) {
        if (error instanceof PythonScriptError && error.cancelled) return undefined;
        const message = (error as Error).message;
        ctx.output.error(`[dry run] ${config}: ${message}`);
        void vscode.window
          .showErrorMessage(
            vscode.l10n.t('GRPO: the dry run of {0} failed: {1}', path.basename(config), message.split('\n').at(-1) ?? ''),
            vscode.l10n.t('Show Output'),
          )
          .then((choice) => choice && ctx.output.show());
        return undefined;
      }
    },
  );
  if (step) await present(step);
  else if (fs.existsSync(file)) {
    // A cancelled or failed dry run keeps no sample set, not even the first group it showed.
    fs.rmSync(file);
    const uri = vscode.Uri.file(file).toString();
    const tabs = vscode.window.tabGroups.all.flatMap((group) => group.tabs);
    await vscode.window.tabGroups.close(tabs.filter((tab) => tab.input instanceof vscode.TabInputText && tab.input.uri.toString() === uri));
    await previews.forgetDryRun(file);
  }
}

/** "Train" and "Dry Run" above a run config. */
class RunConfigLenses implements vscode.CodeLensProvider {
  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    if (!looksLikeRunConfig(document.getText())) return [];
    const top = new vscode.Range(0, 0, 0, 0);
    return [
      new vscode.CodeLens(top, { title: vscode.l10n.t('$(play) Train'), command: 'grpoStudio.train', arguments: [document.uri] }),
      new vscode.CodeLens(top, { title: vscode.l10n.t('$(beaker) Dry Run'), command: 'grpoStudio.dryRun', arguments: [document.uri] }),
    ];
  }
}
