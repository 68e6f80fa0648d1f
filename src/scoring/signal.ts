import { computeAdvantages } from './advantages';
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
}

/** What the Python side writes: TRL's own step, unchanged. */
export interface DryRunStep {
  model: string;
  num_generations: number;
  max_completion_length: number;
  reward_names: string[];
  reward_weights: number[];
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

/**
 * The share of the advantage each function drives. With TRL's default aggregation the advantage is
 * the group-centred weighted total over the group's std, a sum of one term per function:
 * w_f (r_f - mean_f) / (std + 1e-4). A function's share is the size of its terms over all terms.
 */
export function advantageDrive(step: DryRunStep): Record<string, number> {
  const sizes = groupSizes(step);
  const totals = computeAdvantages(
    step.rows.map((r) => step.reward_names.map((name) => r.rewards[name])),
    sizes,
    { weights: step.reward_weights, scaleRewards: 'group', aggregation: 'sum_then_normalize' },
  ).groups;
  const size = step.reward_names.map(() => 0);
  let start = 0;
  sizes.forEach((count, g) => {
    const rows = step.rows.slice(start, start + count);
    start += count;
    const scale = 1 / ((totals[g].std ?? 0) + 1e-4);
    step.reward_names.forEach((name, k) => {
      const present = rows.map((r) => r.rewards[name]).filter((v): v is number => v !== null);
      if (!present.length) return;
      const mean = present.reduce((a, b) => a + b, 0) / present.length;
      for (const v of present) size[k] += Math.abs(step.reward_weights[k] * (v - mean) * scale);
    });
  });
  const sum = size.reduce((a, b) => a + b, 0);
  return Object.fromEntries(step.reward_names.map((name, k) => [name, sum > 0 ? size[k] / sum : 0]));
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
export function findingsOf(step: DryRunStep, signal: Signal, settings: { temperature?: number }, l10n: Localizer): DryRunFinding[] {
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
    const drive = advantageDrive(step);
    const [top] = [...live].sort((a, b) => drive[b] - drive[a]);
    if (drive[top] >= 0.9) {
      findings.push({
        severity: 'info',
        code: 'DRY005',
        message: l10n.t('{0} drives {1} of the advantage: weight the others up (reward_weights) if they matter', top, percent(drive[top])),
      });
    }
  }
  return findings;
}

function groupSizes(step: DryRunStep): number[] {
  const g = step.num_generations;
  return Array.from({ length: Math.ceil(step.rows.length / g) }, (_, i) => Math.min(g, step.rows.length - i * g));
}

/** One function alone, as TRL would normalize it within its groups. */
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
