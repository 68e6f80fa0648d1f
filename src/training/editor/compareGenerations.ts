import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { rewardRefsOf } from '../../discovery/core/rewardRefs';
import { loadPythonParser } from '../../discovery/core/parser';
import type { Ctx } from '../../ctx';
import { findInterpreter, type Interpreter } from '../../interpreter';
import { scoreSamples, type Preview } from '../../scoring/engine';
import { RewardWorker } from '../../scoring/rewardWorker';
import { promptRows, readDatasetRecords, type PromptRow } from '../../shared/datasetReader';
import type { GenerationSettings, RunConfigValues } from '../../shared/runConfig';
import type { PromptValue, RewardRef } from '../../shared/vocabulary';
import { comparisonRows } from '../core/comparison';
import { runComparisonInputs, type CompareTarget, type RunComparisonInputs } from '../core/comparisonInputs';
import { renderComparisonHtml } from '../core/comparisonPage';
import { runGenerate } from '../core/generate';
import { readEvents, type RunState } from '../core/runs';
import type { TrainingContext } from './trainingContext';

/** Prompts of the run's dataset that both models answer. */
const PROMPT_COUNT = 8;
const DEFAULT_MAX_NEW_TOKENS = 256;
/** Answers per prompt and per model when sampling as in training; the same seeds on both sides. */
const SAMPLES_PER_PROMPT = 4;
const SAMPLING_SEED = 42;

class Cancelled extends Error {}

/** What a comparison runs on, once the user has picked it. */
interface Comparison {
  run: RunState;
  inputs: RunComparisonInputs;
  trained: CompareTarget;
  prompts: PromptRow[];
  promptSource: string;
  refs: RewardRef[];
  skipped: string[];
  interpreter: Interpreter;
  cwd: string;
  maxNewTokens: number;
  /** Sampling as the run did (SAMPLES_PER_PROMPT answers per prompt); greedy with one answer when absent. */
  sampling?: GenerationSettings;
}

/**
 * "GRPO: Compare Generations": the base model and a checkpoint answer the same prompts of the run's
 * dataset, both answer sets are scored with the run's rewards, and a static page shows them side by
 * side. Pick the run and checkpoint, find the prompts, generate and score, show.
 */
export function registerCompareGenerations(training: TrainingContext): void {
  training.ctx.registerCommand('grpoStudio.compareGenerations', async (run?: RunState) => {
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage(
        vscode.l10n.t('Comparing generations runs your models and reward code: trust this folder first (Manage Workspace Trust).'),
      );
      return;
    }
    const comparison = await prepareComparison(training, run);
    if (!comparison) return;
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'grpo-compare-'));
    try {
      const result = await generateAndScore(training, comparison, tmp);
      showComparison(comparison, result);
    } catch (error) {
      if (error instanceof Cancelled) return;
      training.ctx.output.error(`[compare] ${(error as Error).message}`);
      void vscode.window
        .showErrorMessage(vscode.l10n.t('GRPO: compare generations failed: {0}', (error as Error).message), vscode.l10n.t('Show Output'))
        .then((choice) => {
          if (choice) training.ctx.output.show();
        });
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
}

/** The run, its checkpoint, the prompts and the rewards, asking the user where needed; undefined when cancelled. */
async function prepareComparison({ ctx, service, discovery }: TrainingContext, run?: RunState): Promise<Comparison | undefined> {
  const target = run ?? (await pickComparableRun(service.runs));
  if (!target) return undefined;
  const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(target.dir));
  const cwd = folder?.uri.fsPath ?? path.dirname(path.dirname(target.dir));
  const inputs = runComparisonInputs(target.dir, readEvents(target.dir), cwd);
  if (!inputs || !inputs.baseModel) {
    void vscode.window.showErrorMessage(vscode.l10n.t('{0} has no start event with its config: cannot tell its base model.', target.name));
    return undefined;
  }
  if (inputs.targets.length === 0) {
    void vscode.window.showErrorMessage(vscode.l10n.t('{0} has no checkpoint and no final model yet.', target.name));
    return undefined;
  }
  const trained = await vscode.window.showQuickPick(
    inputs.targets.map((t) => ({
      label: t.label,
      description: t.path === target.dir ? vscode.l10n.t('final model') : undefined,
      // The final model sits in the run folder itself: named as such, not after the folder again.
      target: t.path === target.dir ? { ...t, label: vscode.l10n.t('final model') } : t,
    })),
    { placeHolder: vscode.l10n.t('Checkpoint to compare with {0}', inputs.baseModel) },
  );
  if (!trained) return undefined;
  const decoding = await pickDecoding(inputs.generation);
  if (!decoding) return undefined;
  const source = await comparisonPrompts(ctx.output, inputs, folder);
  if (!source) return undefined;
  await discovery.whenReady();
  const { refs, skipped } = rewardRefsOf(discovery.report.rewards, inputs.configFile);
  return {
    run: target,
    inputs,
    trained: trained.target,
    ...source,
    refs,
    skipped,
    interpreter: await findInterpreter(ctx.config, folder),
    cwd,
    maxNewTokens: inputs.maxCompletionLength ?? DEFAULT_MAX_NEW_TOKENS,
    sampling: decoding.sampling,
  };
}

/** Greedy answers (one per prompt), or several sampled with the run's own generation settings. */
async function pickDecoding(generation: GenerationSettings): Promise<{ sampling?: GenerationSettings } | undefined> {
  const picked = await vscode.window.showQuickPick(
    [
      { label: vscode.l10n.t('Greedy: one answer per prompt'), detail: vscode.l10n.t('The likeliest answer of each model.'), decoding: {} },
      {
        label: vscode.l10n.t('Sampled as in training: {0} answers per prompt', SAMPLES_PER_PROMPT),
        detail: vscode.l10n.t('{0}; seed {1}, the same for both models', describeSampling(generation), SAMPLING_SEED),
        decoding: { sampling: generation },
      },
    ],
    { placeHolder: vscode.l10n.t('How should both models answer?') },
  );
  return picked?.decoding;
}

function describeSampling(g: GenerationSettings): string {
  return [
    `temperature ${g.temperature}`,
    `top_p ${g.topP}`,
    ...(g.topK ? [`top_k ${g.topK}`] : []),
    ...(g.minP !== undefined ? [`min_p ${g.minP}`] : []),
    ...(g.repetitionPenalty !== 1 ? [`repetition_penalty ${g.repetitionPenalty}`] : []),
  ].join(', ');
}

const answersPerPrompt = (comparison: Comparison) => (comparison.sampling ? SAMPLES_PER_PROMPT : 1);

async function pickComparableRun(runs: RunState[]): Promise<RunState | undefined> {
  const done = runs.filter((r) => r.status === 'finished' || r.status === 'stopped');
  if (done.length === 0) {
    void vscode.window.showInformationMessage(vscode.l10n.t('No finished or stopped training run to compare yet.'));
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    done.map((r) => ({ label: r.name, description: r.status, run: r })),
    { placeHolder: vscode.l10n.t('Run whose model to compare with its base model') },
  );
  return picked?.run;
}

/** The run's own prompts, or a prompts file the user picks when its dataset is not a local file. */
async function comparisonPrompts(
  output: vscode.LogOutputChannel,
  inputs: RunComparisonInputs,
  folder: vscode.WorkspaceFolder | undefined,
): Promise<{ prompts: PromptRow[]; promptSource: string } | undefined> {
  if (inputs.datasetFile) {
    try {
      const prompts = readPromptRows(inputs.datasetFile, inputs.config);
      if (prompts.length) return { prompts, promptSource: inputs.datasetFile };
    } catch (error) {
      output.warn(`[compare] ${inputs.datasetFile}: ${(error as Error).message}`);
    }
  }
  const picked = await vscode.window.showOpenDialog({
    canSelectMany: false,
    filters: { 'JSON Lines': ['jsonl', 'json'] },
    defaultUri: folder?.uri,
    openLabel: vscode.l10n.t('Use these prompts'),
    title: vscode.l10n.t('The run\'s dataset is not a local file: pick a samples or prompts JSONL file (a "prompt" per line)'),
  });
  if (!picked?.[0]) return undefined;
  const promptSource = picked[0].fsPath;
  const prompts = readPromptRows(promptSource, inputs.config);
  if (prompts.length === 0) {
    void vscode.window.showErrorMessage(vscode.l10n.t('{0} has no "prompt" values.', path.basename(promptSource)));
    return undefined;
  }
  return { prompts, promptSource };
}

/** The first distinct prompts of a dataset or samples file, as the run's runner made them. */
function readPromptRows(file: string, config: RunConfigValues): PromptRow[] {
  return promptRows(readDatasetRecords(file, config).records, { limit: PROMPT_COUNT, distinct: 'all' });
}

const hasTokenizer = (dir: string) => fs.existsSync(path.join(dir, 'tokenizer_config.json'));

interface ComparisonResult {
  baseAnswers: PromptValue[];
  trainedAnswers: PromptValue[];
  preview?: Preview;
}

/** Both models answer (greedy, in turn), then the run's rewards score every answer; cancellable. */
async function generateAndScore({ ctx }: TrainingContext, comparison: Comparison, tmp: string): Promise<ComparisonResult> {
  const { inputs, trained, prompts, interpreter, cwd } = comparison;
  const promptsFile = path.join(tmp, 'prompts.jsonl');
  const line = (p: PromptRow) => `${JSON.stringify({ prompt: p.prompt })}\n`;
  fs.writeFileSync(promptsFile, prompts.map((p) => line(p).repeat(answersPerPrompt(comparison))).join(''));
  return vscode.window.withProgress(
    {
      location: vscode.ProgressLocation.Notification,
      title: vscode.l10n.t('GRPO: comparing {0} with {1}', trained.label, path.basename(inputs.baseModel)),
      cancellable: true,
    },
    async (progress, token) => {
      const generate = async (model: string, tokenizer: string | undefined, label: string, name: string): Promise<PromptValue[]> => {
        progress.report({ message: vscode.l10n.t('{0}: loading', label) });
        let reported = 0;
        const controller = new AbortController();
        const subscription = token.onCancellationRequested(() => controller.abort());
        try {
          return await runGenerate({
            python: interpreter.path,
            script: ctx.pythonScript('generate'),
            model,
            tokenizer,
            promptsFile,
            outFile: path.join(tmp, `${name}.jsonl`),
            maxNewTokens: comparison.maxNewTokens,
            sampling: comparison.sampling,
            seed: comparison.sampling ? SAMPLING_SEED : undefined,
            cwd,
            signal: controller.signal,
            onOutput: (text) => ctx.output.append(text),
            onProgress: (n, total) => {
              progress.report({
                message: vscode.l10n.t('{0}: {1}/{2} answers', label, n, total),
                increment: ((n - reported) / total) * 45,
              });
              reported = n;
            },
          });
        } catch (error) {
          if (token.isCancellationRequested) throw new Cancelled();
          throw new Error(vscode.l10n.t('{0}: {1}', label, (error as Error).message), { cause: error });
        } finally {
          subscription.dispose();
        }
      };
      const baseAnswers = await generate(inputs.baseModel, undefined, vscode.l10n.t('base model'), 'base');
      const trainedAnswers = await generate(
        trained.path,
        hasTokenizer(trained.path) ? undefined : inputs.baseModel,
        trained.label,
        'trained',
      );
      if (token.isCancellationRequested) throw new Cancelled();
      progress.report({
        message:
          comparison.refs.length === 1
            ? vscode.l10n.t('scoring with 1 reward function')
            : vscode.l10n.t('scoring with {0} reward functions', comparison.refs.length),
      });
      const worker = new RewardWorker({
        python: interpreter.path,
        workerScript: ctx.pythonScript('worker'),
        cwd,
        timeoutMs: 120_000,
        onOutput: (text) => ctx.output.append(text),
      });
      const cancel = token.onCancellationRequested(() => worker.dispose());
      try {
        return { baseAnswers, trainedAnswers, preview: await scoreAnswers(ctx, worker, comparison, [...baseAnswers, ...trainedAnswers]) };
      } catch (error) {
        if (token.isCancellationRequested) throw new Cancelled();
        throw error;
      } finally {
        cancel.dispose();
        worker.dispose();
      }
    },
  );
}

/** Totals only: each answer is its own group (advantages are not shown). */
async function scoreAnswers(ctx: Ctx, worker: RewardWorker, comparison: Comparison, answers: PromptValue[]): Promise<Preview | undefined> {
  const { refs, prompts, inputs } = comparison;
  if (refs.length === 0) return undefined;
  const perSide = prompts.length * answersPerPrompt(comparison);
  const samples = answers.map((completion, i) => {
    const row = prompts[Math.floor((i % perSide) / answersPerPrompt(comparison))];
    return { line: i + 1, group: i, prompt: row.prompt, completion, columns: row.columns };
  });
  return scoreSamples(worker, {
    parser: await loadPythonParser(ctx.distPath),
    rewards: refs,
    set: { samples, groups: samples.map((_, g) => ({ index: g, start: g, size: 1 })), problems: [] },
    paths: [...new Set([...(vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath), ...inputs.searchDirs])],
    options: {
      scaleRewards: 'group',
      aggregation: 'sum_then_normalize',
      weights: inputs.rewardWeights?.length === refs.length ? inputs.rewardWeights : undefined,
    },
    tokenizer: hasTokenizer(inputs.baseModel) ? inputs.baseModel : undefined,
  });
}

function showComparison(comparison: Comparison, result: ComparisonResult): void {
  const { run, inputs, trained, prompts, refs, skipped } = comparison;
  const perPrompt = answersPerPrompt(comparison);
  const n = prompts.length * perPrompt;
  const matrix = result.preview?.rewards ?? [];
  const totals = result.preview?.totals;
  const rows = comparisonRows(
    prompts.map((p) => p.prompt),
    result.baseAnswers,
    result.trainedAnswers,
    {
      names: refs.map((r) => r.name),
      base: matrix.slice(0, n),
      trained: matrix.slice(n),
      baseTotals: totals?.slice(0, n),
      trainedTotals: totals?.slice(n),
    },
    perPrompt,
  );
  const warnings = [
    ...skipped.map((spec) => vscode.l10n.t('{0}: not a reward file of this workspace; not scored here.', spec)),
    ...(result.preview?.functions ?? [])
      .filter((f) => f.error)
      .map((f) => vscode.l10n.t('{0} failed: {1}: {2}', f.name, f.error!.type, f.error!.message)),
  ];
  if (skipped.length && inputs.rewardWeights?.length)
    warnings.push(vscode.l10n.t('Totals use equal weights: some rewards could not be scored.'));
  const title = vscode.l10n.t('{0}: {1} (base) vs {2}', run.name, path.basename(inputs.baseModel), trained.label);
  const panel = vscode.window.createWebviewPanel('grpoStudio.compareGenerations', title, vscode.ViewColumn.Active, {
    enableScripts: false,
  });
  panel.webview.html = renderComparisonHtml({
    rows,
    rewardNames: refs.map((r) => r.name),
    title,
    baseLabel: vscode.l10n.t('Base: {0}', inputs.baseModel),
    trainedLabel: vscode.l10n.t('Trained: {0}', trained.path),
    details: [
      vscode.l10n.t('Prompts: the first {0} of {1}', prompts.length, comparison.promptSource),
      comparison.sampling
        ? vscode.l10n.t(
            'Sampled as in training, {0} answers per prompt ({1}; seed {2}), at most {3} new tokens; Python: {4}',
            perPrompt,
            describeSampling(comparison.sampling),
            SAMPLING_SEED,
            comparison.maxNewTokens,
            comparison.interpreter.path,
          )
        : vscode.l10n.t('Greedy decoding, at most {0} new tokens; Python: {1}', comparison.maxNewTokens, comparison.interpreter.path),
    ],
    warnings,
    language: vscode.env.language,
    labels: {
      total: vscode.l10n.t('Total'),
      none: vscode.l10n.t('None or failed'),
      summary: vscode.l10n.t('Mean total: {0} → {1}; trained higher on {2}, base higher on {3}, tied on {4} of {5} prompts.'),
      mean: vscode.l10n.t('Mean of {0} answers'),
    },
  });
}
