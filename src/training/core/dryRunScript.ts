import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findingsOf, signalOf, type DryRunFinding, type DryRunStep, type Signal } from '../../scoring/signal';
import { readRunConfig } from '../../shared/runConfig';
import type { Localizer } from '../../shared/vocabulary';

export interface DryRunScriptOptions {
  python: string;
  /** python/grpo_studio_dry_run.py */
  script: string;
  config: string;
  prompts: number;
  seed?: number;
  cwd: string;
  /** The script's progress lines ("loading …", "sampling …"), as they come. */
  onProgress?: (line: string) => void;
  signal?: AbortSignal;
}

/** Why a dry run gave no step: the script's own `error:` line, or the end of its traceback. */
export class DryRunError extends Error {}

/** Runs the dry-run script (TRL's first generation step on K prompts) and reads the step it wrote. */
export async function runDryRunScript(options: DryRunScriptOptions): Promise<DryRunStep> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'grpo-dry-run-'));
  const stepFile = path.join(scratch, 'step.json');
  try {
    const args = [options.script, '--config', options.config, '--out', stepFile, '--prompts', String(options.prompts)];
    if (options.seed !== undefined) args.push('--seed', String(options.seed));
    const child = spawn(options.python, args, {
      cwd: options.cwd,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, PYTHONUNBUFFERED: '1', PYTHONIOENCODING: 'utf-8', TOKENIZERS_PARALLELISM: 'false' },
    });
    const abort = () => child.kill('SIGTERM');
    options.signal?.addEventListener('abort', abort);
    let stderr = '';
    let pending = '';
    child.stderr.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      stderr = (stderr + text).slice(-20000);
      const lines = (pending + text).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (/^(loading|sampling) /.test(line)) options.onProgress?.(line);
    });
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', (error) => reject(new DryRunError(`cannot start ${options.python}: ${error.message}`)));
      child.on('close', (exitCode) => resolve(exitCode));
    }).finally(() => options.signal?.removeEventListener('abort', abort));
    if (options.signal?.aborted) throw new DryRunError('cancelled');
    if (code !== 0) {
      const lines = stderr.trimEnd().split('\n');
      const cause = lines.filter((line) => line.startsWith('error: ')).at(-1);
      throw new DryRunError(cause?.slice('error: '.length) ?? lines.slice(-12).join('\n'));
    }
    return JSON.parse(fs.readFileSync(stepFile, 'utf8')) as DryRunStep;
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/** The signal report of a step and its findings, worded with the config's own settings. */
export function dryRunVerdict(step: DryRunStep, config: string, l10n: Localizer): { signal: Signal; findings: DryRunFinding[] } {
  const signal = signalOf(step);
  const temperature = readRunConfig(config).temperature;
  return { signal, findings: findingsOf(step, signal, { temperature: typeof temperature === 'number' ? temperature : undefined }, l10n) };
}

/** The step's completions as a sample set (the dataset's other columns kept, for rewards that read them). */
export function dryRunSampleSet(step: DryRunStep): string {
  return `${step.rows.map((r) => JSON.stringify({ ...r.columns, prompt: r.prompt, completion: r.completion })).join('\n')}\n`;
}
