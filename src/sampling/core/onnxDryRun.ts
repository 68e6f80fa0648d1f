import * as fs from 'node:fs';
import type { Parser } from 'web-tree-sitter';
import { consecutiveGroups, nanmean, nanstd, type AdvantageOptions } from '../../scoring/advantages';
import { scoreSamples, type PreviewReward } from '../../scoring/engine';
import type { RewardWorker } from '../../scoring/rewardWorker';
import { parseSampleSet, type SampleSet } from '../../scoring/samples';
import type { DryRunStep } from '../../scoring/signal';
import { generationSettings, grpoSampling, type RunConfigValues } from '../../shared/runConfig';
import type { CompletionLength, SampleJob, PromptRecord } from './sampleJob';
import { runSampleThread } from './sampleThread';

/**
 * The dry run in the editor: the config's prompts sampled from an ONNX export of its model by the
 * in-editor sampler (onnxruntime-node, no model loaded in Python), scored by the rewards through the
 * reward worker, and TRL's step metrics computed here with TRL's definitions. The result is the same
 * DryRunStep the Python dry run writes, so the signal report and its findings read it unchanged.
 */

/**
 * The config's settings the in-editor sampler cannot honour; a dry run of such a config goes
 * through TRL in Python instead, so what it reports is what training would sample.
 */
export function settingsTheSamplerLacks(values: RunConfigValues): string[] {
  const g = generationSettings(values);
  const set = (key: string) => values[key] !== undefined && values[key] !== null;
  const nonEmpty = (key: string) => set(key) && !(typeof values[key] === 'object' && Object.keys(values[key] as object).length === 0);
  return [
    ...(g.minP !== undefined ? ['min_p'] : []),
    ...(g.repetitionPenalty !== 1 ? ['repetition_penalty'] : []),
    ...['generation_kwargs', 'chat_template_kwargs'].filter(nonEmpty),
    ...['max_prompt_length'].filter(set),
  ];
}

export interface OnnxDryRunOptions {
  /** dist/sampleWorker.js */
  sampleWorker: string;
  /** The ONNX export the sampler loads. */
  exportDir: string;
  /** The model as the config names it, for the report. */
  modelName: string;
  values: RunConfigValues;
  /** The TRL release training would run: its GRPOConfig defaults fill what the config leaves out. */
  trlVersion: string;
  /** The first K prompts of the config's dataset, its other columns with them. */
  prompts: PromptRecord[];
  /** The sample set written: one line per completion, K groups of num_generations in a row. */
  out: string;
  worker: RewardWorker;
  parser: Parser;
  rewards: PreviewReward[];
  /** Folders for sys.path. */
  paths: string[];
  /** The config's scale_rewards, multi_objective_aggregation and reward_weights. */
  scoring: Omit<AdvantageOptions, 'weights'> & { weights?: number[] };
  signal?: AbortSignal;
  onProgress?: (done: number, total: number, tokens: number) => void;
  /**
   * The first group's step, scored while the sampler draws the others, so it can be shown at once;
   * not called for a single prompt, nor when scoring it fails (the whole set's scoring says why).
   */
  onFirstGroup?: (step: DryRunStep, prompts: number) => void | Promise<void>;
}

export type OnnxDryRunOutcome = { step: DryRunStep } | { cancelled: true } | { error: string };

export async function onnxDryRun(options: OnnxDryRunOptions): Promise<OnnxDryRunOutcome> {
  const { values } = options;
  const { numGenerations, maxCompletionLength: maxNewTokens, seed, temperature, topP, topK } = grpoSampling(values, options.trlVersion);
  const job: SampleJob = {
    model: options.exportDir,
    prompts: options.prompts,
    numGenerations,
    maxNewTokens,
    temperature,
    topP,
    topK,
    seed,
    out: options.out,
    withCompletionIds: true,
  };
  let firstGroup: Promise<void> | undefined;
  // Python starts while the model loads and the first group is sampled, not after.
  options.worker.ping().catch(() => undefined);
  const sampled = await runSampleThread(options.sampleWorker, job, {
    signal: options.signal,
    onProgress: (p) => {
      options.onProgress?.(p.done, p.total, p.tokens);
      const { onFirstGroup } = options;
      if (p.done === 1 && p.written && p.total > 1 && onFirstGroup) {
        // The sampler goes on appending groups while this one is scored: its lines are the file's first G.
        const text = fs.readFileSync(options.out, 'utf8').split('\n').slice(0, numGenerations).join('\n');
        const { written: lengths, total } = p;
        firstGroup = scoredStep(inGroupsOf(parseSampleSet(text), numGenerations), lengths, options, job)
          .then((scored) => ('step' in scored && !options.signal?.aborted ? onFirstGroup(scored.step, total) : undefined))
          // The whole set is scored next and reports what failed; showing the first group early is only a preview of it.
          .catch(() => undefined);
      }
    },
  });
  await firstGroup;
  if (sampled.cancelled) return { cancelled: true };
  if (sampled.error || !sampled.summary) return { error: sampled.error ?? 'the sampler stopped without a result' };
  const set = inGroupsOf(parseSampleSet(fs.readFileSync(options.out, 'utf8')), numGenerations);
  return scoredStep(set, sampled.summary.lengths, options, job);
}

/** `set` scored by the config's rewards, as the DryRunStep the Python dry run writes. */
async function scoredStep(
  set: SampleSet,
  lengths: CompletionLength[],
  options: OnnxDryRunOptions,
  { numGenerations, maxNewTokens }: SampleJob,
): Promise<{ step: DryRunStep } | { error: string }> {
  const preview = await scoreSamples(options.worker, {
    parser: options.parser,
    rewards: options.rewards,
    set,
    paths: options.paths,
    options: options.scoring,
  });
  const failed = preview.functions.find((f) => f.error);
  if (failed) return { error: `${failed.name} raised ${failed.error!.type}: ${failed.error!.message}` };
  const names = options.rewards.map((r) => r.name);
  const rows = set.samples.map((sample, i) => ({
    prompt: sample.prompt,
    completion: sample.completion,
    rewards: Object.fromEntries(names.map((name, k) => [name, preview.rewards[i][k]])),
    total: preview.totals[i],
    advantage: preview.advantages[i],
    length: lengths[i].tokens,
    truncated: lengths[i].truncated,
    columns: sample.columns,
    completion_ids: sample.completionIds,
  }));
  return {
    step: {
      model: options.modelName,
      num_generations: numGenerations,
      max_completion_length: maxNewTokens,
      reward_names: names,
      reward_weights: preview.weights,
      multi_objective_aggregation: options.scoring.aggregation,
      rows,
      metrics: {
        // TRL's definitions: the share of groups whose totals all agree, the share cut at the
        // limit, the mean length in tokens (EOS included), and each reward's nanmean / nanstd.
        frac_reward_zero_std: preview.groups.filter((group) => group.zeroStd).length / Math.max(1, preview.groups.length),
        'completions/clipped_ratio': rows.filter((r) => r.truncated).length / Math.max(1, rows.length),
        'completions/mean_length': rows.reduce((sum, r) => sum + r.length, 0) / Math.max(1, rows.length),
        ...Object.fromEntries(
          names.flatMap((name, k) => {
            const values = preview.rewards.map((row) => row[k] ?? NaN);
            return [
              [`rewards/${name}/mean`, nanmean(values)],
              [`rewards/${name}/std`, nanstd(values)],
            ];
          }),
        ),
      },
    },
  };
}

/** The sampler's lines as its groups: `size` completions per prompt in a row, whatever the prompts' text. */
function inGroupsOf(set: SampleSet, size: number): SampleSet {
  return {
    ...set,
    samples: set.samples.map((s, i) => ({ ...s, group: Math.floor(i / size) })),
    groups: consecutiveGroups(set.samples.length, size),
  };
}
