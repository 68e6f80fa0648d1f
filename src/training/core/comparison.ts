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
  /** Per answer (the answers of a prompt in a row), per function; null where the function returned None or failed. */
  base: (number | null)[][];
  trained: (number | null)[][];
  /** Weighted totals per answer (as TRL sums them); computed from `weights` when absent. */
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

/** One side's answers to a prompt; `scores` and `total` are their means (the answer's own with one). */
export interface SideCell {
  answers: AnswerCell[];
  scores: (number | null)[];
  total: number | null;
}

export interface ComparisonRow {
  prompt: string;
  base: SideCell;
  trained: SideCell;
  /** Per function, then the total, on the means. */
  perReward: Winner[];
  total: Winner;
}

export function winner(base: number | null | undefined, trained: number | null | undefined): Winner {
  if (base === null || base === undefined || trained === null || trained === undefined) return undefined;
  return trained > base ? 'trained' : base > trained ? 'base' : 'tie';
}

/** The mean of the values present; null when none is. */
function meanOf(values: (number | null)[]): number | null {
  const present = values.filter((v): v is number => v !== null);
  return present.length ? present.reduce((a, b) => a + b, 0) / present.length : null;
}

/**
 * Pairs both sides' answers prompt by prompt. `base` and `trained` hold `answersPerPrompt` answers
 * for each prompt, in a row (one when greedy; several when sampled), as do the score rows.
 */
export function comparisonRows(
  prompts: PromptValue[],
  base: PromptValue[],
  trained: PromptValue[],
  scores: ComparisonScores,
  answersPerPrompt = 1,
): ComparisonRow[] {
  return prompts.map((prompt, i) => {
    const side = (which: Side): SideCell => {
      const totals = which === 'base' ? scores.baseTotals : scores.trainedTotals;
      const texts = which === 'base' ? base : trained;
      const answers = Array.from({ length: answersPerPrompt }, (_, j): AnswerCell => {
        const a = i * answersPerPrompt + j;
        const values = scores.names.map((_, k) => scores[which][a]?.[k] ?? null);
        return {
          text: texts[a] === undefined ? '' : displayText(texts[a]),
          scores: values,
          total: totals ? (totals[a] ?? null) : weightedTotal(values, scores.weights),
        };
      });
      return {
        answers,
        scores: scores.names.map((_, k) => meanOf(answers.map((a) => a.scores[k]))),
        total: meanOf(answers.map((a) => a.total)),
      };
    };
    const b = side('base');
    const t = side('trained');
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
