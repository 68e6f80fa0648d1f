import * as path from 'node:path';

/**
 * A run config's `reward_funcs:` list, as the editor completes it: whether a line is an entry of
 * that list, and how a discovered reward is written there so that the runner finds it (a dotted
 * path from the config's folder when the file is importable so, else `path/to/file.py::name`).
 */

/** Whether 0-based `line` of the YAML is (or starts) an entry of the top-level `reward_funcs:` block list. */
export function isRewardFuncsEntry(lines: string[], line: number): boolean {
  if (!/^\s*(-\s*\S*)?$/.test(lines[line] ?? '')) return false;
  for (let i = line - 1; i >= 0; i--) {
    const text = lines[i];
    if (/^\s*(#.*)?$/.test(text) || /^\s+-\s/.test(text) || /^\s*-\s*\S/.test(text)) continue;
    return /^reward_funcs\s*:\s*(#.*)?$/.test(text);
  }
  return false;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** How `reward_funcs:` names `attr` of `file` for a config in `configDir`. */
export function rewardFuncsSpec(file: string, attr: string, configDir: string): string {
  const relative = path.relative(configDir, file).split(path.sep);
  const stem = relative.at(-1)!.replace(/\.py$/, '');
  const modules = [...relative.slice(0, -1), stem];
  const dotted = file.endsWith('.py') && !relative.includes('..') && modules.every((m) => IDENTIFIER.test(m));
  return dotted ? `${modules.join('.')}.${attr}` : `${relative.join('/')}::${attr}`;
}
