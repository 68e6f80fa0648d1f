import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Ctx } from '../../ctx';
import { promptRows, readDatasetRecords } from '../../shared/datasetReader';
import { looksLikeRunConfig, readRunConfig, samplingFieldsSet, searchDirs, trainingDataFiles } from '../../shared/runConfig';
import { isOnnxModelFolder } from '../../shared/onnx/modelFolder';
import { findExport, isTransformersModel, listExports } from '../core/onnxExport';
import { exportCache } from './exportCommand';
import { parsePromptsJsonl, type PromptRecord, type SampleJob } from '../core/sampleJob';
import { runSampleThread, type SampleOutcome } from '../core/sampleThread';
import { SEARCH_EXCLUDE } from '../../discovery/core/sourceFiles';
import { readUtf8File } from '../../shared/encoding';

/** "GRPO: Sample Completions": G completions per prompt from a local ONNX model, as a sample set. */
export function registerSampleCommand(ctx: Ctx): void {
  ctx.registerCommand('grpoStudio.sampleCompletions', async (modelArg?: string, sourceArg?: string) => {
    const model = modelArg ?? (await pickModel(ctx));
    if (!model) return;
    if (!isOnnxModelFolder(model) && isTransformersModel(model)) {
      // A transformers folder: its export, made first if there is none. (A broken ONNX folder goes on,
      // so the sampler names its missing or broken file.)
      const exported =
        findExport(exportCache(ctx), model) ??
        (await vscode.commands.executeCommand<string | undefined>('grpoStudio.exportModelForSampling', model));
      if (exported) await vscode.commands.executeCommand('grpoStudio.sampleCompletions', exported, sourceArg);
      return;
    }
    const source = sourceArg ?? (await pickPromptSource());
    if (!source) return;
    let prompts: PromptRecord[];
    let settings: SamplingSettings;
    try {
      ({ prompts, settings } = readSource(source, ctx.config.sampling));
    } catch (error) {
      void vscode.window.showErrorMessage(vscode.l10n.t('GRPO: cannot read prompts from {0}: {1}', source, (error as Error).message));
      return;
    }
    if (prompts.length === 0) {
      void vscode.window.showErrorMessage(
        vscode.l10n.t('GRPO: {0} has no prompts (one JSON object per line with a "prompt").', path.basename(source)),
      );
      return;
    }
    const out = freeName(path.join(path.dirname(source), `${stem(source)}.${path.basename(model)}.samples.jsonl`));
    const job: SampleJob = { ...settings, model, prompts, out };
    ctx.output.info(`Sampling ${settings.numGenerations} completion(s) for ${prompts.length} prompt(s) from ${model} into ${out}`);

    const outcome = await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: vscode.l10n.t('GRPO: sampling from {0}', path.basename(model)),
        cancellable: true,
      },
      (progress, token) =>
        runInWorker(ctx, job, token, (done, total, tokens) => {
          progress.report({ message: vscode.l10n.t('prompt {0} of {1} · {2} tokens', Math.min(done + 1, total), total, tokens) });
        }),
    );
    if (outcome.error && !outcome.cancelled) {
      ctx.output.error(`Sampling failed: ${outcome.error}`);
      void vscode.window.showErrorMessage(vscode.l10n.t('GRPO: sampling failed: {0}', outcome.error));
      return;
    }
    if (!fs.existsSync(out) || fs.statSync(out).size === 0) return;
    await vscode.window.showTextDocument(vscode.Uri.file(out));
    if (outcome.cancelled) {
      void vscode.window.showInformationMessage(
        vscode.l10n.t('GRPO: sampling cancelled; the finished groups are in {0}.', path.basename(out)),
      );
    } else if (outcome.summary) {
      const s = outcome.summary;
      ctx.output.info(
        `Sampled ${s.completions} completions in ${s.seconds.toFixed(1)} s: ${s.tokensPerSecond.toFixed(1)} tokens/s, first token ${s.timeToFirstTokenMs.toFixed(0)} ms, KV cache ${s.usesKvCache ? 'on' : 'off'}`,
      );
      const open = vscode.l10n.t('Open Reward Preview');
      const choice = await vscode.window.showInformationMessage(
        vscode.l10n.t(
          'GRPO: {0} completions ({1} groups) in {2}; {3} tokens/s.',
          s.completions,
          s.groups,
          path.basename(out),
          s.tokensPerSecond.toFixed(1),
        ),
        open,
      );
      if (choice === open) await vscode.commands.executeCommand('grpoStudio.openRewardPreview');
    }
  });
}

/** The sampling thread, cancelled by the notification's Cancel. */
function runInWorker(
  ctx: Ctx,
  job: SampleJob,
  token: vscode.CancellationToken,
  onProgress: (done: number, total: number, tokens: number) => void,
): Promise<SampleOutcome> {
  const controller = new AbortController();
  const cancel = token.onCancellationRequested(() => controller.abort());
  return runSampleThread(path.join(ctx.distPath, 'sampleWorker.js'), job, {
    signal: controller.signal,
    onProgress: (p) => onProgress(p.done, p.total, p.tokens),
  }).finally(() => cancel.dispose());
}

type SamplingSettings = Ctx['config']['sampling'];

/**
 * Prompts (and the sampling settings) from a JSONL prompts file or sample set, or from a run
 * config's local dataset, whose own num_generations, temperature, … then apply.
 */
function readSource(source: string, settings: SamplingSettings): { prompts: PromptRecord[]; settings: SamplingSettings } {
  if (/\.ya?ml$/i.test(source)) {
    const config = readRunConfig(source);
    const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(source))?.uri.fsPath ?? path.dirname(source);
    const [dataset] = trainingDataFiles(config, searchDirs(folder, source));
    if (!dataset) throw new Error(vscode.l10n.t('its dataset is not a local JSONL, JSON, CSV or TSV file'));
    // The fields the config sets override the user's sampling settings; the others stay.
    // (min_p and repetition_penalty: the in-editor sampler has neither.)
    const { maxCompletionLength, minP: _minP, repetitionPenalty: _penalty, ...set } = samplingFieldsSet(config);
    const fromConfig = { ...settings, ...set, ...(maxCompletionLength !== undefined && { maxNewTokens: maxCompletionLength }) };
    const prompts = promptRows(readDatasetRecords(dataset, config, settings.maxPrompts).records);
    return { prompts, settings: fromConfig };
  }
  const sampleSet = /"completions?"\s*:/.test(firstLine(source));
  return { prompts: parsePromptsJsonl(readUtf8File(source), { sampleSet }).prompts, settings };
}

const EXPORT = '<export>';

async function pickModel(ctx: Ctx): Promise<string | undefined> {
  const folders = vscode.workspace.workspaceFolders ?? [];
  const configured = ctx.config.samplingModel;
  if (configured) {
    const resolved = path.isAbsolute(configured) ? configured : path.join(folders[0]?.uri.fsPath ?? '', configured);
    if (isOnnxModelFolder(resolved)) return resolved;
    ctx.output.warn(`grpoStudio.sampling.model: ${resolved} is not an ONNX model folder`);
  }
  const graphs = await vscode.workspace.findFiles('**/onnx/{model,decoder_model_merged}.onnx', SEARCH_EXCLUDE, 50);
  const models = [...new Set(graphs.map((uri) => path.dirname(path.dirname(uri.fsPath))))].filter(
    (dir) => isOnnxModelFolder(dir) && isCausalLm(dir),
  );
  const exports = listExports(exportCache(ctx)).filter((e) => e.fresh);
  const items = [
    ...models.map((dir) => ({ label: path.basename(dir), description: vscode.workspace.asRelativePath(dir), dir })),
    ...exports.map((e) => ({
      label: path.basename(e.source),
      description: vscode.l10n.t('exported from {0}', vscode.workspace.asRelativePath(e.source)),
      dir: e.dir,
    })),
    {
      label: vscode.l10n.t('Export a transformers model…'),
      description: vscode.l10n.t('to ONNX, with the Python interpreter'),
      dir: EXPORT,
    },
    {
      label: vscode.l10n.t('Browse…'),
      description: vscode.l10n.t('an exported folder: config.json, tokenizer.json, onnx/model.onnx'),
      dir: '',
    },
  ];
  const picked = await vscode.window.showQuickPick(items, { placeHolder: vscode.l10n.t('ONNX causal LM to sample from') });
  if (!picked) return undefined;
  if (picked.dir === EXPORT) return vscode.commands.executeCommand<string | undefined>('grpoStudio.exportModelForSampling');
  if (picked.dir) return picked.dir;
  const chosen = await vscode.window.showOpenDialog({
    canSelectFolders: true,
    canSelectFiles: false,
    openLabel: vscode.l10n.t('Sample from this model'),
  });
  return chosen?.[0]?.fsPath;
}

function isCausalLm(dir: string): boolean {
  try {
    const architectures = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')).architectures as string[] | undefined;
    return !architectures || architectures.some((a) => /ForCausalLM|LMHeadModel/.test(a));
  } catch {
    return false;
  }
}

async function pickPromptSource(): Promise<string | undefined> {
  const editor = vscode.window.activeTextEditor?.document.uri.fsPath;
  const jsonl = await vscode.workspace.findFiles('**/*.jsonl', SEARCH_EXCLUDE, 200);
  const yaml = await vscode.workspace.findFiles('**/*.{yaml,yml}', SEARCH_EXCLUDE, 200);
  const items: { label: string; description: string; file: string }[] = [];
  const where = (file: string) => {
    const dir = vscode.workspace.asRelativePath(path.dirname(file), false);
    return dir === path.dirname(file) ? '' : ` · ${dir}`;
  };
  for (const uri of jsonl) {
    const first = firstLine(uri.fsPath);
    if (!/"prompt"\s*:/.test(first)) continue;
    const kind = /"completions?"\s*:/.test(first) ? vscode.l10n.t('sample set') : vscode.l10n.t('prompts');
    items.push({ label: path.basename(uri.fsPath), description: `${kind}${where(uri.fsPath)}`, file: uri.fsPath });
  }
  for (const uri of yaml) {
    if (!looksLikeRunConfig(fs.readFileSync(uri.fsPath, 'utf8'))) continue;
    let dataset: string | undefined;
    try {
      const folder = vscode.workspace.getWorkspaceFolder(uri)?.uri.fsPath ?? path.dirname(uri.fsPath);
      [dataset] = trainingDataFiles(readRunConfig(uri.fsPath), searchDirs(folder, uri.fsPath));
    } catch {
      continue; // Not valid YAML: the config check reports it.
    }
    if (dataset) {
      items.push({
        label: path.basename(uri.fsPath),
        description: `${vscode.l10n.t('run config dataset')}: ${path.basename(dataset)}${where(uri.fsPath)}`,
        file: uri.fsPath,
      });
    }
  }
  items.sort((a, b) => Number(b.file === editor) - Number(a.file === editor));
  if (items.length === 0) {
    void vscode.window.showInformationMessage(
      vscode.l10n.t(
        'No prompts found: a JSONL file with one {"prompt": ...} per line, a sample set, or a run config with a local dataset.',
      ),
    );
    return undefined;
  }
  return (await vscode.window.showQuickPick(items, { placeHolder: vscode.l10n.t('Prompts to sample completions for') }))?.file;
}

function firstLine(file: string): string {
  const fd = fs.openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(4096);
    const read = fs.readSync(fd, buffer, 0, buffer.length, 0);
    return (
      buffer
        .subarray(0, read)
        .toString('utf8')
        .split('\n')
        .find((line) => line.trim()) ?? ''
    );
  } finally {
    fs.closeSync(fd);
  }
}

function stem(file: string): string {
  return path.basename(file).replace(/(\.samples)?\.(jsonl|ya?ml)$/i, '');
}

/** `file`, or `file` with -2, -3, … before its extension: an earlier sample set is never overwritten. */
function freeName(file: string): string {
  const base = file.replace(/\.samples\.jsonl$/, '');
  let candidate = file;
  for (let n = 2; fs.existsSync(candidate); n++) candidate = `${base}-${n}.samples.jsonl`;
  return candidate;
}
