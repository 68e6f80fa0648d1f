import { computeAdvantages, type AdvantageOptions, type GroupStats } from './advantages';
import { WorkerFault, type RewardWorker } from './rewardWorker';
import type { SampleSet } from './samples';
import type { RewardOutcome, ScoreParams, ScoreResult } from './workerProtocol';
import type { RewardRef, ScoreSample } from '../shared/vocabulary';
import { extent } from '../shared/numbers';
import { readUtf8File } from '../shared/encoding';
import { slicePosition, sliceRewardModules, type ModuleSlice } from '../discovery/core/moduleSlice';
import type { Parser } from 'web-tree-sitter';

/** A reward model scored in this process (an ONNX sequence classifier), not by the Python worker. */
export interface ModelReward {
  name: string;
  model: { score(samples: ScoreSample[]): Promise<number[]> };
}

export type PreviewReward = RewardRef | ModelReward;

export function isModelReward(reward: PreviewReward): reward is ModelReward {
  return 'model' in reward;
}

export interface ScoringRequest {
  /** In GRPOTrainer's order: functions go to the worker, models are scored here. */
  rewards: PreviewReward[];
  set: SampleSet;
  /** Folders for sys.path: the workspace roots. */
  paths: string[];
  /** One weight per function in the total (see `inTotal`). */
  options: Omit<AdvantageOptions, 'weights'> & { weights?: number[] };
  tokenizer?: string;
  /** Indices of the functions that make up the weighted total (default: all), e.g. the trainer's. */
  inTotal?: number[];
  /** Discovery's parser: each reward file runs only the top-level statements its rewards need (moduleSlice.ts). */
  parser: Parser;
}

export interface Preview {
  functions: RewardOutcome[];
  /** Per sample (file order): rewards per function (null: None or the function failed). */
  rewards: (number | null)[][];
  /** Indices of the functions in the total, in order; `weights` follows it. */
  inTotal: number[];
  totals: (number | null)[];
  advantages: number[];
  groups: GroupStats[];
  weights: number[];
  placeholderIds: boolean;
  /** Absent when only reward models were scored: no Python ran. */
  python?: ScoreResult['python'];
  /** Wall time of the whole request, ms. */
  ms: number;
  /** By reward file: the top-level statements that ran and those skipped. */
  slices: Record<string, ModuleSlice>;
}

/**
 * Scores a sample set (reward functions in the worker, reward models here) and computes GRPO
 * totals and advantages as TRL does. The worker is needed only when there are functions.
 */
export async function scoreSamples(worker: RewardWorker | undefined, request: ScoringRequest): Promise<Preview> {
  const started = performance.now();
  const { set, rewards } = request;
  const samples: ScoreSample[] = set.samples.map(({ prompt, completion, columns, completionIds }) => ({
    prompt,
    completion,
    columns,
    ...(completionIds && { completionIds }),
  }));
  const functions = rewards.filter((r): r is RewardRef => !isModelReward(r));
  let result: ScoreResult | undefined;
  const slices = sliceRewardModules(request.parser, functions, readUtf8File);
  if (functions.length) {
    if (!worker) throw new Error('reward functions need the Python worker');
    const sources = Object.fromEntries(Object.entries(slices).flatMap(([file, slice]) => (slice.whole ? [] : [[file, slice.source]])));
    result = await scoreFunctions(worker, { paths: request.paths, rewards: functions, samples, tokenizer: request.tokenizer, sources });
  }
  const fromWorker = result?.rewards ?? [];
  let next = 0;
  const outcomes: RewardOutcome[] = [];
  for (const reward of rewards) outcomes.push(isModelReward(reward) ? await scoreModel(reward, samples) : fromWorker[next++]);
  for (const frame of outcomes.flatMap((o) => o.error?.traceback ?? [])) {
    if (slices[frame.file]?.cells) Object.assign(frame, slicePosition(slices[frame.file], frame.line));
  }
  const inTotal = request.inTotal ?? rewards.map((_, k) => k);
  const weights = request.options.weights ?? inTotal.map(() => 1);
  if (weights.length !== inTotal.length) {
    throw new Error(`${weights.length} weight(s) for ${inTotal.length} reward function(s)`);
  }
  const matrix = set.samples.map((_, i) => outcomes.map((r) => r.values?.[i] ?? null));
  const totalMatrix = matrix.map((row) => inTotal.map((k) => row[k]));
  const math = computeAdvantages(
    totalMatrix,
    set.groups.map((g) => g.size),
    { ...request.options, weights },
  );
  return {
    functions: outcomes,
    rewards: matrix,
    inTotal,
    totals: math.totals,
    advantages: math.advantages,
    groups: math.groups,
    weights,
    placeholderIds: result?.placeholderIds ?? false,
    python: result?.python,
    ms: performance.now() - started,
    slices,
  };
}

/**
 * All functions in one request; when one of them takes the worker down (os._exit, a segfault, a
 * hang past the time limit), each is scored alone, so the others' results are kept and the one
 * that crashed or hung is named.
 */
async function scoreFunctions(worker: RewardWorker, params: ScoreParams): Promise<ScoreResult> {
  try {
    return await worker.score(params);
  } catch (error) {
    if (!(error instanceof WorkerFault) || error.kind === 'start') throw error;
    if (params.rewards.length === 1) throw new WorkerFault(error.kind, `${params.rewards[0].name}: ${error.message}`);
  }
  const outcomes: RewardOutcome[] = [];
  let scored: ScoreResult | undefined;
  const faults: string[] = [];
  for (const reward of params.rewards) {
    try {
      scored = await worker.score({ ...params, rewards: [reward] });
      outcomes.push(scored.rewards[0]);
    } catch (error) {
      if (!(error instanceof WorkerFault) || error.kind === 'start') throw error;
      faults.push(`${reward.name}: ${error.message}`);
      const type = error.kind === 'timeout' ? 'Timeout' : 'WorkerCrash';
      outcomes.push({
        name: reward.name,
        error: { type, message: error.message, traceback: [] },
        ms: 0,
        metrics: {},
        extra: {},
        warnings: [],
      });
    }
  }
  if (!scored) throw new WorkerFault('crash', faults.join('\n'));
  return { ...scored, rewards: outcomes };
}

async function scoreModel(reward: ModelReward, samples: ScoreSample[]): Promise<RewardOutcome> {
  const started = performance.now();
  const outcome: RewardOutcome = { name: reward.name, ms: 0, metrics: {}, extra: {}, warnings: [] };
  try {
    outcome.values = await reward.model.score(samples);
  } catch (error) {
    outcome.error = { type: (error as Error).name || 'Error', message: (error as Error).message, traceback: [] };
  }
  outcome.ms = performance.now() - started;
  return outcome;
}

/** mean, std and range of one function's values, for the inline summary at its definition. */
export function summarize(values: (number | null)[]): { mean: number; std: number; min: number; max: number; count: number } | undefined {
  const present = values.filter((v): v is number => v !== null);
  if (present.length === 0) return undefined;
  const mean = present.reduce((a, b) => a + b, 0) / present.length;
  const std = present.length > 1 ? Math.sqrt(present.reduce((a, b) => a + (b - mean) ** 2, 0) / (present.length - 1)) : 0;
  return { mean, std, ...extent(present), count: present.length };
}
