import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  advantageDriversOf,
  findingsOf,
  signalOf,
  type AdvantageDrivers,
  type DryRunFinding,
  type DryRunRow,
  type DryRunStep,
  type Signal,
} from '../../scoring/signal';
import { runPythonScript } from '../../shared/pythonProcess';
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

/** Runs the dry-run script (TRL's first generation step on K prompts) and reads the step it wrote. */
export async function runDryRunScript(options: DryRunScriptOptions): Promise<DryRunStep> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'grpo-dry-run-'));
  const stepFile = path.join(scratch, 'step.json');
  try {
    const args = [options.script, '--config', options.config, '--out', stepFile, '--prompts', String(options.prompts)];
    if (options.seed !== undefined) args.push('--seed', String(options.seed));
    await runPythonScript({
      python: options.python,
      args,
      cwd: options.cwd,
      signal: options.signal,
      onLine: (line) => {
        if (/^(loading|sampling) /.test(line)) options.onProgress?.(line);
      },
    });
    return JSON.parse(fs.readFileSync(stepFile, 'utf8')) as DryRunStep;
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

export interface DryRunVerdict {
  signal: Signal;
  drivers: AdvantageDrivers;
  findings: DryRunFinding[];
}

/** The signal report of a step and its findings, worded with the config's own settings. */
export function dryRunVerdict(step: DryRunStep, config: string, l10n: Localizer): DryRunVerdict {
  const signal = signalOf(step);
  const drivers = advantageDriversOf(step);
  const temperature = readRunConfig(config).temperature;
  return {
    signal,
    drivers,
    findings: findingsOf(step, signal, drivers, { temperature: typeof temperature === 'number' ? temperature : undefined }, l10n),
  };
}

/**
 * The step's completions as a sample set: the dataset's other columns kept, for rewards that read
 * them, and the sampled token ids, so that re-scoring gives rewards the completion_ids TRL did.
 */
export function dryRunSampleSet(step: DryRunStep): string {
  const line = (r: DryRunRow) => ({ ...r.columns, prompt: r.prompt, completion: r.completion, completion_ids: r.completion_ids });
  return `${step.rows.map((r) => JSON.stringify(line(r))).join('\n')}\n`;
}
