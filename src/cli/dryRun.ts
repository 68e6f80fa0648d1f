import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { PythonScriptError } from '../shared/pythonProcess';
import { pythonScript } from '../shared/pythonScripts';
import type { DryRunStep } from '../scoring/signal';
import { dryRunSampleSet, dryRunVerdict, runDryRunScript, type DryRunVerdict } from '../training/core/dryRunScript';
import { cliLocalizer } from './localizer';
import { numberOption, outputProblem } from './options';
import { writeFileAtomically } from '../shared/files';
import { cliPython } from './python';

const USAGE = 'Usage: grpo-studio dry-run --config FILE [--prompts K] [--seed S] [--out FILE.samples.jsonl] [--force] [--json]';

/**
 * `grpo-studio dry-run`: the policy's own completions on K prompts of a run config, sampled and
 * scored by the installed TRL's first generation step, with the signal report, before training.
 */
export async function runDryRun(argv: string[]): Promise<number> {
  const usage = (message: string) => {
    process.stderr.write(`grpo-studio dry-run: ${message}\n${USAGE}\n`);
    return 2;
  };
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        config: { type: 'string' },
        prompts: { type: 'string', default: '8' },
        seed: { type: 'string' },
        out: { type: 'string' },
        force: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
      },
    }));
  } catch (error) {
    return usage((error as Error).message);
  }
  if (!values.config) return usage('--config FILE is required');
  const config = path.resolve(values.config);
  if (!fs.existsSync(config) || !fs.statSync(config).isFile()) return usage(`no such config file: ${values.config}`);
  const prompts = numberOption(values.prompts!, { integer: true, min: 1 });
  if (prompts === undefined) return usage('--prompts must be a positive integer');
  const seed = values.seed === undefined ? undefined : numberOption(values.seed, { integer: true, min: 0 });
  if (values.seed !== undefined && seed === undefined) return usage('--seed must be a non-negative integer');
  const out = values.out === undefined ? undefined : path.resolve(values.out);
  if (values.out !== undefined) {
    const problem = outputProblem('--out', values.out, { inputs: [{ option: '--config', path: config }], force: values.force });
    if (problem) return usage(problem);
  }

  const python = cliPython();
  let step: DryRunStep;
  const controller = new AbortController();
  const cancel = () => controller.abort();
  process.once('SIGINT', cancel);
  try {
    step = await runDryRunScript({
      python: python.path,
      script: pythonScript(path.join(__dirname, '..'), 'dryRun'),
      config,
      prompts,
      seed,
      cwd: process.cwd(),
      onProgress: (line) => process.stderr.write(`grpo-studio dry-run: ${line}\n`),
      signal: controller.signal,
    });
  } catch (error) {
    if (!(error instanceof PythonScriptError)) throw error;
    if (error.cancelled) return 130;
    process.stderr.write(`grpo-studio dry-run: the dry run failed (${python.path}, ${python.source}):\n${error.message}\n`);
    return 1;
  } finally {
    process.off('SIGINT', cancel);
  }
  const verdict = dryRunVerdict(step, config, cliLocalizer());
  const { signal, findings } = verdict;
  const g = step.num_generations;
  if (out) {
    fs.mkdirSync(path.dirname(out), { recursive: true });
    writeFileAtomically(out, dryRunSampleSet(step));
  }
  if (values.json) {
    const completions = step.rows.map((r, i) => ({
      prompt: r.prompt,
      completion: r.completion,
      group: Math.floor(i / g),
      rewards: r.rewards,
      total: r.total,
      advantage: r.advantage,
      length: r.length,
      truncated: r.truncated,
    }));
    process.stdout.write(
      `${JSON.stringify({ config: values.config, model: step.model, num_generations: g, completions, signal, findings }, null, 2)}\n`,
    );
  } else {
    process.stdout.write(textReport(step, verdict, out));
  }
  return 0;
}

function textReport(step: DryRunStep, { signal, drivers, findings }: DryRunVerdict, out?: string): string {
  const fmt = (v: number | null) => (v === null ? '—' : v.toFixed(3));
  const percent = (x: number) => `${Math.round(x * 100)}%`;
  const lines = [
    `${step.model}: ${step.rows.length / step.num_generations} prompts × ${step.num_generations} completions`,
    `frac_reward_zero_std ${signal.frac_reward_zero_std.toFixed(3)} · clipped_ratio ${signal.clipped_ratio.toFixed(3)} · mean_length ${signal.mean_length.toFixed(1)} tokens`,
    '',
    `${'reward'.padEnd(24)} ${'mean'.padStart(8)} ${'std'.padStart(8)} ${'min'.padStart(8)} ${'max'.padStart(8)} ${'zero-std'.padStart(9)} ${'None'.padStart(6)} ${'drives'.padStart(7)} ${'r(adv)'.padStart(7)}`,
    ...Object.entries(signal.per_function).map(
      ([name, f]) =>
        `${name.padEnd(24)} ${fmt(f.mean).padStart(8)} ${fmt(f.std).padStart(8)} ${fmt(f.min).padStart(8)} ${fmt(f.max).padStart(8)} ${percent(f.frac_zero_std).padStart(9)} ${percent(f.frac_none).padStart(6)} ${percent(drivers.share[name]).padStart(7)} ${fmt(drivers.correlation[name]).padStart(7)}`,
    ),
    ...(drivers.pairs.length
      ? ['', 'within-group correlation between rewards', ...drivers.pairs.map(({ a, b, r }) => `  ${a} ~ ${b}: ${fmt(r)}`)]
      : []),
    '',
    ...(findings.length
      ? findings.map((f) => `${f.severity} ${f.code} ${f.message}`)
      : ['no findings: every reward varies within the groups']),
    ...(out ? ['', `completions saved as a sample set: ${out}`] : []),
  ];
  return `${lines.join('\n')}\n`;
}
