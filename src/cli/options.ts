import * as fs from 'node:fs';
import * as path from 'node:path';

/** The largest delay Node's timers take (2^31 - 1 ms, about 24.8 days), in seconds. */
export const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/**
 * A numeric option's value, or undefined when the text is not one (the caller answers with a usage
 * error, exit 2): a finite number, an integer when asked, within [min, max], above `above`.
 */
export function numberOption(text: string, rule: { integer?: boolean; min?: number; above?: number; max?: number }): number | undefined {
  if (!/^\s*[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?\s*$/i.test(text)) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || (rule.integer && !Number.isInteger(value))) return undefined;
  if ((rule.min !== undefined && value < rule.min) || (rule.above !== undefined && value <= rule.above)) return undefined;
  if (rule.max !== undefined && value > rule.max) return undefined;
  return value;
}

/**
 * Why a command must not write `out`, if it must not: it is (a link to) one of the command's inputs,
 * or an existing file the user did not ask to replace (`--force`). Inputs may be folders: nothing
 * inside them (a run's events.jsonl, its checkpoints) is written over either.
 */
export function outputProblem(
  option: string,
  out: string,
  { inputs, force }: { inputs: { option: string; path: string }[]; force: boolean },
): string | undefined {
  const real = (file: string) => {
    try {
      return fs.realpathSync(file);
    } catch {
      return path.resolve(file);
    }
  };
  const target = real(out);
  for (const input of inputs) {
    const source = real(input.path);
    if (target === source)
      return `${option} ${out} is the ${input.option} file: give another output file (the input is never written over)`;
    const inside = fs.existsSync(source) && fs.statSync(source).isDirectory() && !path.relative(source, target).startsWith('..');
    if (inside && fs.existsSync(target) && !target.endsWith('.html'))
      return `${option} ${out} is one of the files of ${input.option} ${input.path}: write the output somewhere else (a run's files are never written over)`;
  }
  if (!force && fs.existsSync(target) && fs.statSync(target).isFile())
    return `${option} ${out} exists: add --force to replace it, or give another file`;
  return undefined;
}
