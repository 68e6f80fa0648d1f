import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Ctx } from '../../ctx';
import { loadPythonParser } from '../../discovery/core/parser';
import { rewardRefsOf } from '../../discovery/core/rewardRefs';
import type { RewardFunction } from '../../discovery/core/types';
import { configSettings } from '../../previews/core/previewSource';
import { RewardWorker } from '../../scoring/rewardWorker';
import type { DryRunStep } from '../../scoring/signal';
import { promptRows, readDatasetRecords } from '../../shared/datasetReader';
import { readUtf8File } from '../../shared/encoding';
import { readRunConfig, resolveLike, searchDirs, trainingDataFiles, type RunConfigValues } from '../../shared/runConfig';
import { onnxDryRun, settingsTheSamplerLacks } from '../core/onnxDryRun';
import { findExport } from '../core/onnxExport';
import { exportCache } from './exportCommand';

/** What an in-editor dry run of a config samples from, when it can run in the editor. */
export interface InEditorDryRunPlan {
  values: RunConfigValues;
  exportDir: string;
  /** The transformers folder the export was made from. */
  modelDir: string;
  modelName: string;
  dataset: string;
}

/**
 * The ONNX export a dry run of `config` can sample from in the editor, or why it goes through TRL:
 * no local model, no export of it yet, generation settings the in-editor sampler does not have, a
 * dataset that is not a local file, or a reward the editor cannot score (TRL's built-in ones).
 */
export function inEditorDryRunPlan(
  ctx: Ctx,
  config: string,
  folder: string,
  rewards: readonly RewardFunction[],
): InEditorDryRunPlan | { reason: string } {
  const values = readRunConfig(config);
  const dirs = searchDirs(folder, config);
  const modelName = typeof values.model_name_or_path === 'string' ? values.model_name_or_path : '';
  const modelDir = resolveLike(modelName, dirs);
  const exportDir = modelName ? findExport(exportCache(ctx), modelDir) : undefined;
  if (!exportDir) return { reason: vscode.l10n.t('{0} has no ONNX export for in-editor sampling', modelName || config) };
  const lacking = settingsTheSamplerLacks(values);
  if (lacking.length) return { reason: vscode.l10n.t('the in-editor sampler does not apply {0}', lacking.join(', ')) };
  const [dataset] = trainingDataFiles(values, dirs);
  if (!dataset) return { reason: vscode.l10n.t('its dataset is not a local JSONL, JSON, CSV or TSV file') };
  const { skipped } = rewardRefsOf(rewards, config);
  if (skipped.length) return { reason: vscode.l10n.t('cannot score {0} in the editor', skipped.join(', ')) };
  return { values, exportDir, modelDir, modelName, dataset };
}

export interface InEditorDryRunOptions {
  ctx: Ctx;
  rewards: readonly RewardFunction[];
  python: string;
  config: string;
  folder: string;
  plan: InEditorDryRunPlan;
  prompts: number;
  /** The TRL release the run would use. */
  trlVersion: string;
  progress: vscode.Progress<{ message?: string }>;
  token: vscode.CancellationToken;
  /** The first group's step, while the others are sampled. */
  onFirstGroup?: (step: DryRunStep, prompts: number) => Promise<void>;
}

/** Samples the config's first prompts from the export, scores them with its rewards; undefined when cancelled. */
export async function runInEditorDryRun(options: InEditorDryRunOptions): Promise<DryRunStep | undefined> {
  const { ctx, config, folder, plan, progress, token } = options;
  const { values } = plan;
  const prompts = promptRows(readDatasetRecords(plan.dataset, values).records, { limit: options.prompts, distinct: 'all' });
  if (prompts.length === 0) throw new Error(vscode.l10n.t('{0} has no prompts', plan.dataset));
  const { refs } = rewardRefsOf(options.rewards, config);
  const worker = new RewardWorker({
    python: options.python,
    workerScript: ctx.pythonScript('worker'),
    cwd: folder,
    timeoutMs: ctx.config.previewTimeoutMs,
    onOutput: (text) => ctx.output.append(text),
  });
  // The sampler writes group by group: into a scratch folder, so a cancelled dry run leaves nothing behind.
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'grpo-dry-run-'));
  const controller = new AbortController();
  const cancel = token.onCancellationRequested(() => {
    controller.abort();
    worker.dispose();
  });
  try {
    const settings = configSettings(readUtf8File(config), refs.length);
    const outcome = await onnxDryRun({
      sampleWorker: path.join(ctx.distPath, 'sampleWorker.js'),
      exportDir: plan.exportDir,
      modelName: plan.modelName,
      values,
      trlVersion: options.trlVersion,
      prompts,
      out: path.join(scratch, 'samples.jsonl'),
      worker,
      parser: await loadPythonParser(ctx.distPath),
      rewards: refs,
      paths: [...new Set([folder, path.dirname(config)])],
      scoring: {
        scaleRewards: settings.scaleRewards ?? 'group',
        aggregation: settings.aggregation ?? 'sum_then_normalize',
        weights: settings.weights,
      },
      signal: controller.signal,
      onFirstGroup: options.onFirstGroup,
      onProgress: (done, total, tokens) =>
        progress.report({
          message: vscode.l10n.t('sampling in the editor: prompt {0} of {1} · {2} tokens', Math.min(done + 1, total), total, tokens),
        }),
    });
    if ('cancelled' in outcome || token.isCancellationRequested) return undefined;
    if ('error' in outcome) throw new Error(outcome.error);
    return outcome.step;
  } finally {
    cancel.dispose();
    worker.dispose();
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}
