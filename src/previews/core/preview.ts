import { computeAdvantages, type AdvantageOptions, type GroupStats } from './advantages';
import type { RewardWorker } from './rewardWorker';
import type { SampleSet } from './samples';
import type { RewardOutcome, RewardRef, ScoreResult } from './workerProtocol';

export interface PreviewRequest {
  rewards: RewardRef[];
  set: SampleSet;
  /** Folders for sys.path: the workspace roots. */
  paths: string[];
  /** One weight per function in the total (see `inTotal`). */
  options: Omit<AdvantageOptions, 'weights'> & { weights?: number[] };
  tokenizer?: string;
  /** Indices of the functions that make up the weighted total (default: all), e.g. the trainer's. */
  inTotal?: number[];
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
  python: ScoreResult['python'];
  /** Wall time of the whole request, ms. */
  ms: number;
}

/** Scores a sample set with the worker and computes GRPO totals and advantages as TRL does. */
export async function previewRewards(worker: RewardWorker, request: PreviewRequest): Promise<Preview> {
  const started = performance.now();
  const { set, rewards } = request;
  const result = await worker.score({
    paths: request.paths,
    rewards,
    samples: set.samples.map(({ prompt, completion, columns }) => ({ prompt, completion, columns })),
    tokenizer: request.tokenizer,
  });
  const inTotal = request.inTotal ?? rewards.map((_, k) => k);
  const weights = request.options.weights ?? inTotal.map(() => 1);
  if (weights.length !== inTotal.length) {
    throw new Error(`${weights.length} weight(s) for ${inTotal.length} reward function(s)`);
  }
  const matrix = set.samples.map((_, i) => result.rewards.map((r) => r.values?.[i] ?? null));
  const totalMatrix = matrix.map((row) => inTotal.map((k) => row[k]));
  const math = computeAdvantages(totalMatrix, set.groups.map((g) => g.size), { ...request.options, weights });
  return {
    functions: result.rewards,
    rewards: matrix,
    inTotal,
    totals: math.totals,
    advantages: math.advantages,
    groups: math.groups,
    weights,
    placeholderIds: result.placeholderIds,
    python: result.python,
    ms: performance.now() - started,
  };
}

/** mean, std and range of one function's values, for the inline summary at its definition. */
export function summarize(values: (number | null)[]): { mean: number; std: number; min: number; max: number; count: number } | undefined {
  const present = values.filter((v): v is number => v !== null);
  if (present.length === 0) return undefined;
  const mean = present.reduce((a, b) => a + b, 0) / present.length;
  const std = present.length > 1 ? Math.sqrt(present.reduce((a, b) => a + (b - mean) ** 2, 0) / (present.length - 1)) : 0;
  return { mean, std, min: Math.min(...present), max: Math.max(...present), count: present.length };
}
