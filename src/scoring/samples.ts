import { readJsonLines, type LineProblem } from '../shared/datasetReader';
import { type PromptValue, isPromptValue } from '../shared/vocabulary';

/** One completion to score, with the prompt and dataset columns it goes with. */
export interface Sample {
  /** One-based line in the samples file. */
  line: number;
  /** Index of its GRPO group. */
  group: number;
  prompt: PromptValue;
  completion: PromptValue;
  columns: Record<string, unknown>;
  /** The token ids the policy sampled (a dry run's `completion_ids`), passed to rewards as TRL passes them. */
  completionIds?: number[];
}

export interface SampleGroup {
  index: number;
  /** Index of the first sample. */
  start: number;
  size: number;
}

export type SampleProblem = LineProblem;

export interface SampleSet {
  samples: Sample[];
  groups: SampleGroup[];
  problems: SampleProblem[];
}

const RESERVED = new Set(['prompt', 'completion', 'completions', 'completion_ids']);

/**
 * Reads a samples file (JSON Lines). Each line is `{"prompt", "completion", ...columns}`, with
 * the completion's token ids as `"completion_ids"` where the completions were sampled (a dry run);
 * adjacent lines with the same prompt form one GRPO group, and `{"prompt", "completions": [...]}`
 * is a whole group. Prompts and completions are strings (standard format) or message lists
 * (conversational). A malformed line becomes a problem with its line number; the rest still counts.
 */
export function parseSampleSet(text: string): SampleSet {
  const samples: Sample[] = [];
  const groups: SampleGroup[] = [];
  const lines = readJsonLines(text, { shape: 'a JSON object like {"prompt": "…", "completion": "…"}' });
  const problems: SampleProblem[] = lines.problems;
  let previousPromptKey: string | undefined;
  let previousWasGroupLine = false;

  const startGroup = () => {
    groups.push({ index: groups.length, start: samples.length, size: 0 });
  };
  const add = (line: number, prompt: PromptValue, completion: PromptValue, columns: Record<string, unknown>, completionIds?: number[]) => {
    const group = groups[groups.length - 1];
    samples.push({ line, group: group.index, prompt, completion, columns, ...(completionIds && { completionIds }) });
    group.size++;
  };

  lines.records.forEach(({ line, value: record }) => {
    const prompt = record.prompt;
    if (!isPromptValue(prompt)) {
      problems.push({ line, message: '"prompt" must be a string or a list of {"role", "content"} messages' });
      return;
    }
    const columns = Object.fromEntries(Object.entries(record).filter(([key]) => !RESERVED.has(key)));
    const promptKey = JSON.stringify(prompt);
    if ('completions' in record) {
      const completions = record.completions;
      if (!Array.isArray(completions) || completions.length === 0 || !completions.every(isPromptValue)) {
        problems.push({ line, message: '"completions" must be a non-empty list of strings or message lists' });
        return;
      }
      startGroup();
      for (const completion of completions) add(line, prompt, completion, columns);
      previousWasGroupLine = true;
    } else {
      const completion = record.completion;
      if (!isPromptValue(completion)) {
        problems.push({ line, message: 'each line needs "completion" (a string or a message list) or "completions" (a list)' });
        return;
      }
      const ids = record.completion_ids;
      if (ids !== undefined && !(Array.isArray(ids) && ids.every((id) => Number.isInteger(id) && id >= 0))) {
        problems.push({ line, message: '"completion_ids" must be a list of token ids (integers ≥ 0)' });
        return;
      }
      if (previousWasGroupLine || promptKey !== previousPromptKey) startGroup();
      add(line, prompt, completion, columns, ids as number[] | undefined);
      previousWasGroupLine = false;
    }
    previousPromptKey = promptKey;
  });
  problems.sort((a, b) => a.line - b.line);
  return { samples, groups, problems };
}
