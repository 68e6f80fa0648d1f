import * as fs from 'node:fs';
import { runPythonScript } from '../../shared/pythonProcess';
import type { GenerationSettings } from '../../shared/runConfig';
import type { PromptValue } from '../../shared/vocabulary';

/** Answers to prompts from a local model through python/grpo_studio_generate.py (transformers). */

export interface GenerateOptions {
  python: string;
  script: string;
  model: string;
  tokenizer?: string;
  promptsFile: string;
  outFile: string;
  maxNewTokens?: number;
  /** Greedy when absent (or at temperature 0). */
  sampling?: GenerationSettings;
  seed?: number;
  cwd: string;
  /** Called with (done, total) as answers come. */
  onProgress?: (done: number, total: number) => void;
  onOutput?: (text: string) => void;
  signal?: AbortSignal;
}

/** Runs the generate script; resolves with its answers in prompt order. Aborting `signal` cancels. */
export async function runGenerate(options: GenerateOptions): Promise<PromptValue[]> {
  const args = [options.script, '--model', options.model, '--prompts', options.promptsFile, '--out', options.outFile];
  if (options.tokenizer) args.push('--tokenizer', options.tokenizer);
  if (options.maxNewTokens !== undefined) args.push('--max-new-tokens', String(options.maxNewTokens));
  const sampling = options.sampling;
  if (sampling) {
    args.push('--temperature', String(sampling.temperature), '--top-p', String(sampling.topP), '--top-k', String(sampling.topK));
    args.push('--repetition-penalty', String(sampling.repetitionPenalty));
    if (sampling.minP !== undefined) args.push('--min-p', String(sampling.minP));
  }
  if (options.seed !== undefined) args.push('--seed', String(options.seed));
  await runPythonScript({
    python: options.python,
    args,
    cwd: options.cwd,
    signal: options.signal,
    onOutput: options.onOutput,
    onLine: (line) => {
      const match = /generated (\d+)\/(\d+)/.exec(line);
      if (match) options.onProgress?.(Number(match[1]), Number(match[2]));
    },
  });
  const lines = fs
    .readFileSync(options.outFile, 'utf8')
    .split('\n')
    .filter((l) => l.trim());
  return lines.map((l) => (JSON.parse(l) as { completion: PromptValue }).completion);
}
