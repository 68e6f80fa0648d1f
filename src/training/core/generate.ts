import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
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
}

/** Runs the generate script; resolves with its answers in prompt order. `kill()` on the child cancels. */
export function runGenerate(options: GenerateOptions): { child: ChildProcess; done: Promise<PromptValue[]> } {
  const args = [options.script, '--model', options.model, '--prompts', options.promptsFile, '--out', options.outFile];
  if (options.tokenizer) args.push('--tokenizer', options.tokenizer);
  if (options.maxNewTokens !== undefined) args.push('--max-new-tokens', String(options.maxNewTokens));
  if (options.temperature !== undefined) args.push('--temperature', String(options.temperature));
  if (options.seed !== undefined) args.push('--seed', String(options.seed));
  const child = spawn(options.python, args, {
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PYTHONUNBUFFERED: '1', PYTHONIOENCODING: 'utf-8', TOKENIZERS_PARALLELISM: 'false' },
  });
  let stderr = '';
  const done = new Promise<PromptValue[]>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => options.onOutput?.(chunk.toString('utf8')));
    child.stderr!.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      stderr = (stderr + text).slice(-4000);
      options.onOutput?.(text);
      for (const match of text.matchAll(/generated (\d+)\/(\d+)/g)) options.onProgress?.(Number(match[1]), Number(match[2]));
    });
    child.on('error', (error) => reject(new Error(`could not start ${options.python}: ${error.message}`)));
    child.on('close', (code, signal) => {
      if (code !== 0) {
        const errorLine = stderr
          .split('\n')
          .reverse()
          .find((l) => l.startsWith('error: '));
        const detail = errorLine?.slice('error: '.length) ?? stderr.trim().split('\n').slice(-3).join('\n');
        reject(new Error(signal ? `generation stopped (${signal})` : `generation failed (exit code ${code}): ${detail}`));
        return;
      }
      try {
        const lines = fs
          .readFileSync(options.outFile, 'utf8')
          .split('\n')
          .filter((l) => l.trim());
        resolve(lines.map((l) => (JSON.parse(l) as { completion: PromptValue }).completion));
      } catch (error) {
        reject(error as Error);
      }
    });
  });
  return { child, done };
}
