import { weightedTotal } from '../../scoring/advantages';
import { displayText, type PromptValue } from '../../shared/vocabulary';

/**
 * "GRPO: Compare Generations": the base model and a trained checkpoint answer the same prompts;
 * both answer sets are scored with the run's rewards. This file pairs the answers and says which
 * side scored higher; comparisonPage.ts draws them, comparisonInputs.ts finds what a run needs.
 */

export type Side = 'base' | 'trained';
/** Which side scored higher; `tie` when equal; undefined when either is missing. */
export type Winner = Side | 'tie' | undefined;

export interface ComparisonScores {
  /** Reward function names, in column order. */
  names: string[];
  /** Per prompt, per function; null where the function returned None or failed. */
  base: (number | null)[][];
  trained: (number | null)[][];
  /** Weighted totals per prompt (as TRL sums them); computed from `weights` when absent. */
  baseTotals?: (number | null)[];
  trainedTotals?: (number | null)[];
  /** One weight per function (TRL's reward_weights; default 1). */
  weights?: number[];
}

export interface AnswerCell {
  text: string;
  scores: (number | null)[];
  total: number | null;
}

export interface ComparisonRow {
  prompt: string;
  base: AnswerCell;
  trained: AnswerCell;
  /** Per function, then the total. */
  perReward: Winner[];
  total: Winner;
}

export function winner(base: number | null | undefined, trained: number | null | undefined): Winner {
  if (base === null || base === undefined || trained === null || trained === undefined) return undefined;
  return trained > base ? 'trained' : base > trained ? 'base' : 'tie';
}

export function comparisonRows(
  prompts: PromptValue[],
  base: PromptValue[],
  trained: PromptValue[],
  scores: ComparisonScores,
): ComparisonRow[] {
  return prompts.map((prompt, i) => {
    const cell = (side: Side): AnswerCell => {
      const values = scores.names.map((_, k) => scores[side][i]?.[k] ?? null);
      const totals = side === 'base' ? scores.baseTotals : scores.trainedTotals;
      const answer = (side === 'base' ? base : trained)[i];
      return {
        text: answer === undefined ? '' : displayText(answer),
        scores: values,
        total: totals ? (totals[i] ?? null) : weightedTotal(values, scores.weights),
      };
    };
    const b = cell('base');
    const t = cell('trained');
    return {
      prompt: displayText(prompt),
      base: b,
      trained: t,
      perReward: b.scores.map((v, k) => winner(v, t.scores[k])),
      total: winner(b.total, t.total),
    };
  });
}

export function formatScore(value: number | null): string {
  if (value === null) return '—';
  return Number.isInteger(value) ? String(value) : value.toFixed(3).replace(/0+$/, '').replace(/\.$/, '');
}
