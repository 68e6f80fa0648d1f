/**
 * Messages between the extension host and the Reward Preview webview (webview/rewardPreview).
 * The host posts `HostMessage`s; the webview posts `WebviewMessage`s, which the host checks with
 * `parseWebviewMessage` before acting on them. No `vscode` import: the webview bundles this file.
 */
import type { Aggregation, ScaleRewards } from '../../scoring/advantages';
import type { AdvantageDrivers, DryRunFinding, Signal } from '../../scoring/signal';

export type { Aggregation, ScaleRewards };

export const SCALE_REWARDS: readonly ScaleRewards[] = ['group', 'batch', 'none'];
export const AGGREGATIONS: readonly Aggregation[] = ['sum_then_normalize', 'normalize_then_sum'];

export interface PreviewFunction {
  name: string;
  /** Its entry in `reward_weights`. */
  weight: number;
  /** Why it produced no values (one line, e.g. `TypeError: ...`); its rewards are then null. */
  error?: string;
  /** Time spent inside the reward call, ms. */
  ms?: number;
}

export interface PreviewRow {
  /** One-based line in the samples file. */
  line: number;
  /** `PreviewGroup.index` of its GRPO group. */
  group: number;
  /** Display text (message lists already flattened by the host). */
  prompt: string;
  completion: string;
  /** One per function, in `functions` order; null where it returned None or failed. */
  rewards: (number | null)[];
  /** Weighted sum of the rewards; null when every function returned None. */
  total: number | null;
  advantage: number;
}

export interface PreviewGroup {
  /** Zero-based, in file order. */
  index: number;
  mean: number | null;
  /** Null with fewer than two scorable completions. */
  std: number | null;
  /** The group carries no learning signal (TRL's frac_reward_zero_std counts it). */
  zeroStd: boolean;
  size: number;
}

export interface PreviewOptions {
  scaleRewards: ScaleRewards;
  aggregation: Aggregation;
}

/** The options with the panel's weights: one per function (absent: the trainer's, or all 1). */
export type WeightedPreviewOptions = PreviewOptions & { weights?: number[] };

/** A dry run's signal report, shown above the sample set it saved (TRL's numbers when it sampled). */
export interface DryRunReport {
  config: string;
  model: string;
  numGenerations: number;
  maxCompletionLength: number;
  /** TRL's own first generation step in Python, or the in-editor ONNX sampler. */
  sampledBy: 'trl' | 'onnx';
  signal: Signal;
  drivers: AdvantageDrivers;
  findings: DryRunFinding[];
  /** While the other prompts are still being sampled: the report covers the first of `prompts`. */
  firstGroupOf?: number;
}

/** Whose rewards are totalled, as the panel's heading says it ("Rewards of run.tiny.yaml: emoji_reward ×1, …"). */
export interface PreviewSourceInfo {
  label: string;
  /** A config whose reward_weights differ from the panel's: "Write weights to …" is offered. */
  writableTo?: string;
}

export interface PreviewData {
  samplesFile: string;
  source?: PreviewSourceInfo;
  functions: PreviewFunction[];
  rows: PreviewRow[];
  groups: PreviewGroup[];
  options: PreviewOptions;
  /** One line shown above the table (e.g. "completion_ids are placeholders"). */
  notice?: string;
  /** When the sample set came from GRPO: Dry Run. */
  dryRun?: DryRunReport;
}

/** `strings`: the host's translation bundle (English text → translation), for the panel's own strings. */
export type HostMessage = { type: 'update'; data: PreviewData; strings?: Record<string, string> };

export type WebviewMessage =
  | { type: 'ready' }
  /** Open the samples file at this one-based line. */
  | { type: 'reveal'; file: string; line: number }
  /** Recompute with these options; `weights` has one entry per function. */
  | { type: 'setOptions'; options: WeightedPreviewOptions }
  /** Pick another config, trainer file or the whole workspace. */
  | { type: 'chooseSource' }
  /** Write the panel's weights into the source config's reward_weights. */
  | { type: 'writeWeights' };

type Fields = Record<string, unknown>;

const isObject = (value: unknown): value is Fields => typeof value === 'object' && value !== null && !Array.isArray(value);
const isOneOf = <T extends string>(allowed: readonly T[], value: unknown): value is T => allowed.includes(value as T);
const isWeightList = (value: unknown): value is number[] =>
  Array.isArray(value) && value.every((w) => typeof w === 'number' && Number.isFinite(w));

function parseReveal(raw: Fields): WebviewMessage | undefined {
  const { file, line } = raw;
  if (typeof file !== 'string' || file === '') return undefined;
  if (typeof line !== 'number' || !Number.isInteger(line) || line < 1) return undefined;
  return { type: 'reveal', file, line };
}

function parseSetOptions(raw: Fields): WebviewMessage | undefined {
  const options = raw.options;
  if (!isObject(options)) return undefined;
  const { scaleRewards, aggregation, weights } = options;
  if (!isOneOf(SCALE_REWARDS, scaleRewards) || !isOneOf(AGGREGATIONS, aggregation)) return undefined;
  if (weights !== undefined && !isWeightList(weights)) return undefined;
  return { type: 'setOptions', options: { scaleRewards, aggregation, ...(weights ? { weights: [...weights] } : {}) } };
}

/** The message as a fresh, well-typed object (unknown fields dropped), or undefined when malformed. */
export function parseWebviewMessage(raw: unknown): WebviewMessage | undefined {
  if (!isObject(raw)) return undefined;
  switch (raw.type) {
    case 'ready':
      return { type: 'ready' };
    case 'reveal':
      return parseReveal(raw);
    case 'setOptions':
      return parseSetOptions(raw);
    case 'chooseSource':
      return { type: 'chooseSource' };
    case 'writeWeights':
      return { type: 'writeWeights' };
    default:
      return undefined;
  }
}
