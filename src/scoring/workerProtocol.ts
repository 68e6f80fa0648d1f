/**
 * The reward worker's protocol (python/grpo_studio_worker.py). One JSON object per line, UTF-8.
 * Requests go to the worker on file descriptor 3, responses come back on file descriptor 4, so
 * nothing a reward function prints (on stdout/stderr, which the host shows in an output channel)
 * can corrupt them. The worker's stdin is /dev/null: a reward that reads stdin gets EOF at once.
 */
import type { RewardRef, ScoreSample } from '../shared/vocabulary';

export interface ScoreParams {
  /** Folders put on sys.path (workspace roots and each module's own folder are added). */
  paths: string[];
  rewards: RewardRef[];
  samples: ScoreSample[];
  /** A tokenizer folder/id for real `completion_ids` where the samples bring none; without either the ids are placeholders. */
  tokenizer?: string;
  /**
   * By file: the module text to run instead of importing the file (a script's slice its rewards
   * need, a notebook's code cells), compiled under the file's name so tracebacks point into it.
   */
  sources?: Record<string, string>;
  /** `trainer_state` fields the reward sees. */
  trainerState?: { global_step: number; max_steps: number; epoch: number };
}

export interface TraceFrame {
  file: string;
  /** 1-based; in a notebook, the line in `cell`. */
  line: number;
  name: string;
  /** In a notebook: the cell (0-based among all its cells). */
  cell?: number;
}

export interface RewardError {
  /** Python exception type (`TypeError`), or `InvalidReturn` for a result TRL would reject. */
  type: string;
  message: string;
  /** Innermost last; frames inside the worker itself are left out. */
  traceback: TraceFrame[];
}

export interface RewardOutcome {
  name: string;
  /** One value per sample; null where the function returned None (TRL: NaN, "not applicable"). */
  values?: (number | null)[];
  error?: RewardError;
  /** Time spent inside the reward call, in milliseconds. */
  ms: number;
  /** What the function sent through `log_metric(name, value)` (null where a value was NaN). */
  metrics: Record<string, (number | null)[]>;
  /** What the function sent through `log_extra(column, values)`. */
  extra: Record<string, unknown[]>;
  /**
   * Whether `inspect.signature` says GRPOTrainer's keyword call binds, with the reason when not;
   * absent when the reward could not be loaded.
   */
  signature?: { binds: boolean; message?: string };
  /** Accepted but suspicious results, e.g. NaN values (TRL treats them as "not applicable"). */
  warnings: string[];
}

export interface ScoreResult {
  rewards: RewardOutcome[];
  /** True when `completion_ids` were placeholders (no sampled ids, no tokenizer). */
  placeholderIds: boolean;
  python: { executable: string; version: string };
}

export type WorkerRequest = { id: number; method: 'score'; params: ScoreParams } | { id: number; method: 'ping' };

export type WorkerResponse =
  | { id: number; result: ScoreResult | { pong: true; python: ScoreResult['python'] } }
  /**
   * Sent ahead of a score's result once its set-up is done (the tokenizer loaded, the reward
   * modules imported and classes instantiated) and the reward calls begin.
   */
  | { id: number; loaded: true }
  /** `id` is null when the request line was not readable JSON. */
  | { id: number | null; error: { message: string } };
