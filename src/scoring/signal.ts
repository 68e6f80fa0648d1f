import { computeAdvantages, consecutiveGroups } from './advantages';
import type { Localizer } from '../shared/vocabulary';

/**
 * The dry run's signal report: what TRL's first step would learn from, read off the completions
 * the policy sampled and the metrics TRL itself logged for them (python/grpo_studio_dry_run.py).
 */

export interface DryRunRow {
  prompt: unknown;
  completion: unknown;
  rewards: Record<string, number | null>;
  total: number | null;
  advantage: number;
  length: number;
  truncated: boolean;
  columns?: Record<string, unknown>;
  /** The sampled token ids (EOS included), as the rewards got them. */
  completion_ids?: number[];
}

/** What the Python side writes: TRL's own step, unchanged. */
export interface DryRunStep {
  model: string;
  num_generations: number;
  max_completion_length: number;
  reward_names: string[];
  reward_weights: number[];
  /** The config's aggregation (TRL's default where the release has no such setting). */
  multi_objective_aggregation?: 'sum_then_normalize' | 'normalize_then_sum';
  rows: DryRunRow[];
  metrics: Record<string, number>;
}

export interface FunctionSignal {
  mean: number | null;
  std: number | null;
  min: number | null;
  max: number | null;
  /** Share of groups where this function alone gives every completion the same value (or none). */
  frac_zero_std: number;
  frac_none: number;
}

export interface Signal {
  frac_reward_zero_std: number;
  clipped_ratio: number;
  mean_length: number;
  per_function: Record<string, FunctionSignal>;
}

export interface DryRunFinding {
  severity: 'error' | 'warning' | 'info';
  code: string;
  message: string;
}

/** What drives the advantage TRL computed, function by function (the signal report's second table). */
export interface AdvantageDrivers {
  /**
   * Per function: its share of the advantage's variance. TRL's advantage is, up to its scale, a sum
   * of one group-centred term per function (w_f (r_f - mean) under sum_then_normalize, w_f times the
   * group-normalized r_f under normalize_then_sum); a term's covariance with the advantage is its part
   * of that variance. Shares are of the absolute parts, so they sum to 1.
   */
  share: Record<string, number>;
  /** Per function: correlation of its within-group normalized reward with the advantage (null: no variance). */
  correlation: Record<string, number | null>;
  /** Every pair of functions: their pooled within-group correlation (null where one has no variance). */
  pairs: { a: string; b: string; r: number | null }[];
}

export function advantageDriversOf(step: DryRunStep): AdvantageDrivers {
  const names = step.reward_names;
  const ranges = groupRanges(step);
  const advantage = centredInGroups(
    step.rows.map((r) => r.advantage),
    ranges,
  );
  const centred = names.map((name) =>
    centredInGroups(
      step.rows.map((r) => r.rewards[name]),
      ranges,
    ),
  );
  const normalized = centred.map((values) =>
    ranges.flatMap(([a, b]) => {
      const group = values.slice(a, b);
      const std = sampleStd(group);
      return group.map((v) => (std === null ? 0 : v / (std + 1e-4)));
    }),
  );
  const terms = step.multi_objective_aggregation === 'normalize_then_sum' ? normalized : centred;
  const parts = terms.map((values, k) => Math.abs(step.reward_weights[k] * dot(values, advantage)));
  const total = parts.reduce((a, b) => a + b, 0);
  const pairs: AdvantageDrivers['pairs'] = [];
  names.forEach((a, i) => names.slice(i + 1).forEach((b, j) => pairs.push({ a, b, r: cosine(centred[i], centred[i + 1 + j]) })));
  return {
    share: Object.fromEntries(names.map((name, k) => [name, total > 0 ? parts[k] / total : 0])),
    correlation: Object.fromEntries(names.map((name, k) => [name, cosine(normalized[k], advantage)])),
    pairs,
  };
}

export function signalOf(step: DryRunStep): Signal {
  const sizes = groupSizes(step);
  const per_function: Record<string, FunctionSignal> = {};
  for (const name of step.reward_names) {
    const values = step.rows.map((r) => r.rewards[name]);
    const present = values.filter((v): v is number => v !== null);
    per_function[name] = {
      mean: finite(step.metrics[`rewards/${name}/mean`]),
      std: finite(step.metrics[`rewards/${name}/std`]),
      min: present.length ? present.reduce((a, b) => Math.min(a, b)) : null,
      max: present.length ? present.reduce((a, b) => Math.max(a, b)) : null,
      frac_zero_std: zeroStdShare(values, sizes) ?? 0,
      frac_none: values.length ? (values.length - present.length) / values.length : 0,
    };
  }
  return {
    frac_reward_zero_std: step.metrics.frac_reward_zero_std ?? 0,
    clipped_ratio: step.metrics['completions/clipped_ratio'] ?? 0,
    mean_length: step.metrics['completions/mean_length'] ?? 0,
    per_function,
  };
}

/** Findings in plain words, each with the change to try. */
export function findingsOf(
  step: DryRunStep,
  signal: Signal,
  drivers: AdvantageDrivers,
  settings: { temperature?: number },
  l10n: Localizer,
): DryRunFinding[] {
  const findings: DryRunFinding[] = [];
  const percent = (x: number) => `${Math.round(x * 100)}%`;
  const n = step.rows.length;
  if (signal.frac_reward_zero_std >= 0.5) {
    findings.push({
      severity: signal.frac_reward_zero_std >= 1 ? 'error' : 'warning',
      code: 'DRY001',
      message: l10n.t(
        '{0} of the groups have the same total reward for every completion: their advantages are 0 and they teach nothing (loss 0, frac_reward_zero_std {1}); give partial credit, raise the temperature or the number of generations',
        percent(signal.frac_reward_zero_std),
        signal.frac_reward_zero_std.toFixed(2),
      ),
    });
  }
  for (const [name, f] of Object.entries(signal.per_function)) {
    if (f.frac_none >= 1) {
      findings.push({
        severity: 'error',
        code: 'DRY002',
        message: l10n.t('{0} returned None for all {1} completions: it gives no signal; check what it expects', name, n),
      });
    } else if (f.frac_zero_std >= 1) {
      const constant = f.min === f.max && f.min !== null;
      const temperature = settings.temperature === undefined ? '' : l10n.t(' at temperature {0}', settings.temperature);
      findings.push({
        severity: 'warning',
        code: 'DRY003',
        message: constant
          ? l10n.t(
              '{0} is {1} on all {2} completions: no learning signal{3} (raise the temperature, add a system prompt, or give partial credit)',
              name,
              f.min!,
              n,
              temperature,
            )
          : l10n.t(
              '{0} gives every completion of a group the same value, in every group: no learning signal{1} (give partial credit)',
              name,
              temperature,
            ),
      });
    }
  }
  if (signal.clipped_ratio >= 0.5) {
    findings.push({
      severity: 'warning',
      code: 'DRY004',
      message: l10n.t(
        '{0} of completions stop at max_completion_length={1} without an end of sequence: rewards judge cut-off answers (raise max_completion_length, or reward shorter answers)',
        percent(signal.clipped_ratio),
        step.max_completion_length,
      ),
    });
  }
  const live = step.reward_names.filter((name) => signal.per_function[name].frac_zero_std < 1);
  if (live.length >= 2) {
    const [top] = [...live].sort((a, b) => drivers.share[b] - drivers.share[a]);
    if (drivers.share[top] >= 0.9) {
      findings.push({
        severity: 'info',
        code: 'DRY005',
        message: l10n.t(
          '{0} drives {1} of the advantage: weight the others up (reward_weights) if they matter',
          top,
          percent(drivers.share[top]),
        ),
      });
    }
    for (const { a, b, r } of drivers.pairs) {
      if (r === null || !live.includes(a) || !live.includes(b)) continue;
      if (r >= 0.95) {
        findings.push({
          severity: 'info',
          code: 'DRY006',
          message: l10n.t(
            '{0} and {1} rank the completions of a group the same way (within-group correlation {2}): together they act as one reward with their weights added; drop one or make them measure different things',
            a,
            b,
            r.toFixed(2),
          ),
        });
      } else if (r <= -0.7) {
        findings.push({
          severity: 'warning',
          code: 'DRY007',
          message: l10n.t(
            '{0} and {1} pull against each other (within-group correlation {2}): a completion gains on one what it loses on the other, and the advantage is what is left; check that both reward what you want',
            a,
            b,
            r.toFixed(2),
          ),
        });
      }
    }
  }
  return findings;
}

function groupSizes(step: DryRunStep): number[] {
  return consecutiveGroups(step.rows.length, step.num_generations).map((g) => g.size);
}

function groupRanges(step: DryRunStep): [number, number][] {
  return consecutiveGroups(step.rows.length, step.num_generations).map((g) => [g.start, g.start + g.size]);
}

/** Each value minus its group's mean of the values present; None counts as 0, as in TRL's nansum. */
function centredInGroups(values: (number | null)[], ranges: [number, number][]): number[] {
  return ranges.flatMap(([a, b]) => {
    const group = values.slice(a, b);
    const present = group.filter((v): v is number => v !== null);
    if (!present.length) return group.map(() => 0);
    const mean = present.reduce((x, y) => x + y, 0) / present.length;
    return group.map((v) => (v === null ? 0 : v - mean));
  });
}

function sampleStd(centred: number[]): number | null {
  if (centred.length < 2) return null;
  const std = Math.sqrt(dot(centred, centred) / (centred.length - 1));
  return std > 1e-8 ? std : null;
}

const dot = (x: number[], y: number[]) => x.reduce((sum, v, i) => sum + v * y[i], 0);

/** Correlation of two vectors already centred in their groups. */
function cosine(x: number[], y: number[]): number | null {
  const size = Math.sqrt(dot(x, x) * dot(y, y));
  return size > 1e-12 ? dot(x, y) / size : null;
}

/**
 * The share of groups (of two or more completions) in which one reward function gives every
 * completion the same value (or None): groups that function alone teaches nothing in.
 */
export function zeroStdShare(values: (number | null)[], sizes: number[]): number | undefined {
  const { groups } = computeAdvantages(
    values.map((v) => [v]),
    sizes,
    { weights: [1], scaleRewards: 'group', aggregation: 'sum_then_normalize' },
  );
  const counted = groups.filter((_, i) => sizes[i] > 1);
  return counted.length ? counted.filter((g) => g.zeroStd || g.std === null).length / counted.length : undefined;
}

const finite = (v: number | undefined) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
