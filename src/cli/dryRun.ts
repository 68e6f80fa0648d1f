import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { readRunConfig } from '../shared/runConfig';
import { pythonScript } from '../shared/pythonScripts';
import { findingsOf, signalOf, type DryRunStep } from '../training/core/dryRun';
import { cliLocalizer } from './localizer';
import { numberOption, outputProblem, writeFileAtomically } from './options';
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
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'grpo-dry-run-'));
  const stepFile = path.join(scratch, 'step.json');
  try {
    const args = [pythonScript(path.join(__dirname, '..'), 'dryRun'), '--config', config, '--out', stepFile, '--prompts', String(prompts)];
    if (seed !== undefined) args.push('--seed', String(seed));
    const { code, tail } = await runPython(python.path, args);
    if (code !== 0) {
      process.stderr.write(`grpo-studio dry-run: the dry run failed (${python.path}, ${python.source}):\n${tail}\n`);
      return 1;
    }
    const step = JSON.parse(fs.readFileSync(stepFile, 'utf8')) as DryRunStep;
    const signal = signalOf(step);
    const temperature = readRunConfig(config).temperature;
    const findings = findingsOf(step, signal, { temperature: typeof temperature === 'number' ? temperature : undefined }, cliLocalizer());
    const g = step.num_generations;
    if (out) {
      fs.mkdirSync(path.dirname(out), { recursive: true });
      const lines = step.rows.map((r) => JSON.stringify({ ...r.columns, prompt: r.prompt, completion: r.completion }));
      writeFileAtomically(out, `${lines.join('\n')}\n`);
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
      process.stdout.write(textReport(step, signal, findings, out));
    }
    return 0;
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/** Runs the dry-run script; our progress lines go to stderr as they come, the rest is kept for a failure. */
function runPython(python: string, args: string[]): Promise<{ code: number; tail: string }> {
  return new Promise((resolve) => {
    const child = spawn(python, args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, PYTHONUNBUFFERED: '1', PYTHONIOENCODING: 'utf-8', TOKENIZERS_PARALLELISM: 'false' },
    });
    let stderr = '';
    let pending = '';
    child.stderr.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      stderr = (stderr + text).slice(-20000);
      const lines = (pending + text).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (/^(loading|sampling) /.test(line)) process.stderr.write(`grpo-studio dry-run: ${line}\n`);
    });
    const stop = () => child.kill('SIGTERM');
    process.once('SIGINT', stop);
    child.on('error', (error) => resolve({ code: 127, tail: `cannot start it: ${error.message}` }));
    child.on('close', (code, signal) => {
      process.off('SIGINT', stop);
      const lines = stderr.trimEnd().split('\n');
      const cause = lines.filter((line) => line.startsWith('error: ')).at(-1);
      resolve({ code: code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : 1), tail: cause ?? lines.slice(-12).join('\n') });
    });
  });
}

function textReport(step: DryRunStep, signal: ReturnType<typeof signalOf>, findings: ReturnType<typeof findingsOf>, out?: string): string {
  const fmt = (v: number | null) => (v === null ? '—' : v.toFixed(3));
  const lines = [
    `${step.model}: ${step.rows.length / step.num_generations} prompts × ${step.num_generations} completions`,
    `frac_reward_zero_std ${signal.frac_reward_zero_std.toFixed(3)} · clipped_ratio ${signal.clipped_ratio.toFixed(3)} · mean_length ${signal.mean_length.toFixed(1)} tokens`,
    '',
    `${'reward'.padEnd(24)} ${'mean'.padStart(8)} ${'std'.padStart(8)} ${'min'.padStart(8)} ${'max'.padStart(8)} ${'zero-std'.padStart(9)} ${'None'.padStart(6)}`,
    ...Object.entries(signal.per_function).map(
      ([name, f]) =>
        `${name.padEnd(24)} ${fmt(f.mean).padStart(8)} ${fmt(f.std).padStart(8)} ${fmt(f.min).padStart(8)} ${fmt(f.max).padStart(8)} ${`${Math.round(f.frac_zero_std * 100)}%`.padStart(9)} ${`${Math.round(f.frac_none * 100)}%`.padStart(6)}`,
    ),
    '',
    ...(findings.length
      ? findings.map((f) => `${f.severity} ${f.code} ${f.message}`)
      : ['no findings: every reward varies within the groups']),
    ...(out ? ['', `completions saved as a sample set: ${out}`] : []),
  ];
  return `${lines.join('\n')}\n`;
}
