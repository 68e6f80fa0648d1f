import * as fs from 'node:fs';
import * as path from 'node:path';

/** How a CLI user picks the interpreter, named in messages. */
export const PYTHON_CHOOSER = 'GRPO_STUDIO_PYTHON=/path/to/python';

/** The interpreter for the CLI and where it came from: `$GRPO_STUDIO_PYTHON`, else `./.venv/bin/python`, else `python3`. */
export function cliPython(): { path: string; source: string } {
  if (process.env.GRPO_STUDIO_PYTHON) return { path: process.env.GRPO_STUDIO_PYTHON, source: 'GRPO_STUDIO_PYTHON' };
  const venv = path.join(process.cwd(), '.venv', 'bin', 'python');
  return fs.existsSync(venv) ? { path: venv, source: './.venv' } : { path: 'python3', source: 'python3 on PATH' };
}
