import * as fs from 'node:fs';
import * as path from 'node:path';

/** The interpreter for the CLI: `$GRPO_STUDIO_PYTHON`, else `./.venv/bin/python`, else `python3`. */
export function defaultPython(): string {
  if (process.env.GRPO_STUDIO_PYTHON) return process.env.GRPO_STUDIO_PYTHON;
  const venv = path.join(process.cwd(), '.venv', 'bin', 'python');
  return fs.existsSync(venv) ? venv : 'python3';
}
