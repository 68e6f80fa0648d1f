import * as fs from 'node:fs';
import { runPythonScript } from '../../shared/pythonProcess';
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
  temperature?: number;
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
  if (options.temperature !== undefined) args.push('--temperature', String(options.temperature));
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
