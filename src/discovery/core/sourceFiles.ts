import * as fs from 'node:fs';
import * as path from 'node:path';
import { guessLegacyEncoding } from '../../shared/encoding';

/** Directories that never hold the user's own reward code. */
const SKIPPED_DIRS = new Set([
  '.git',
  '.hg',
  '.svn',
  'node_modules',
  '.venv',
  'venv',
  'site-packages',
  'dist-packages',
  '__pycache__',
  '.tox',
  '.nox',
  '.mypy_cache',
  '.pytest_cache',
  '.ruff_cache',
  '.ipynb_checkpoints',
]);

/**
 * The same folders as a `findFiles` exclude glob, for the editor's searches of the workspace (sample
 * sets, run configs, models); `runs` too (run folders hold copies and checkpoints, not sources).
 */
export const SEARCH_EXCLUDE = `**/{${[...SKIPPED_DIRS, 'runs'].join(',')}}/**`;

export type SourceKind = 'python' | 'notebook' | 'config';

export interface SourceFile {
  path: string;
  kind: SourceKind;
  size: number;
}

export interface WalkOptions {
  /** `files.exclude` and the user's own globs, as a predicate over absolute paths. */
  isExcluded?: (absPath: string, isDirectory: boolean) => boolean;
}

export function sourceKindOf(file: string): SourceKind | undefined {
  if (file.endsWith('.py')) return 'python';
  if (file.endsWith('.ipynb')) return 'notebook';
  if (file.endsWith('.yaml') || file.endsWith('.yml')) return 'config';
  return undefined;
}

/**
 * Python files and YAML configs under `roots`, skipping virtual environments (any folder with a
 * `pyvenv.cfg`), package caches and VCS folders. Symlinked folders are followed once: a loop
 * ends at the first folder seen again.
 */
export function walkSourceFiles(roots: string[], options: WalkOptions = {}): SourceFile[] {
  const files: SourceFile[] = [];
  const seenDirs = new Set<string>();
  const visit = (dir: string) => {
    let real: string;
    try {
      real = fs.realpathSync(dir);
    } catch {
      return;
    }
    if (seenDirs.has(real)) return;
    seenDirs.add(real);
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    if (entries.some((e) => e.name === 'pyvenv.cfg') && !roots.includes(dir)) return;
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        try {
          const stat = fs.statSync(full);
          isDir = stat.isDirectory();
          isFile = stat.isFile();
        } catch {
          continue; // dangling link
        }
      }
      if (isDir) {
        if (SKIPPED_DIRS.has(entry.name) || options.isExcluded?.(full, true)) continue;
        visit(full);
      } else if (isFile) {
        const kind = sourceKindOf(entry.name);
        if (!kind || options.isExcluded?.(full, false)) continue;
        let size: number;
        try {
          size = fs.statSync(full).size;
        } catch {
          continue;
        }
        files.push({ path: full, kind, size });
      }
    }
  };
  for (const root of roots) visit(root);
  return files;
}

/** True when a path lies in a folder that discovery always skips. */
export function isInSkippedDir(file: string): boolean {
  return file
    .split(/[\\/]/)
    .slice(0, -1)
    .some((part) => SKIPPED_DIRS.has(part));
}

const CODING = /^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)/;

/**
 * Decodes Python source as Python does: UTF-8 unless a PEP 263 coding line in the first two lines
 * says otherwise (Shift_JIS and EUC-JP are common in Japanese code). Invalid bytes become U+FFFD
 * instead of failing, so a stray byte never hides the rest of the file.
 */
/** The PEP 263 coding declaration of the first two lines, if any. */
function declaredEncoding(bytes: Uint8Array): string | undefined {
  const head = Buffer.from(bytes.subarray(0, 200)).toString('latin1').split(/\r?\n/).slice(0, 2);
  for (const line of head) {
    const match = CODING.exec(line);
    if (match) return match[1].toLowerCase().replace(/_/g, '-');
  }
  return undefined;
}

/**
 * The legacy encoding of a `.py` file that Python refuses to import (not UTF-8 and no coding
 * declaration: SyntaxError), or undefined when Python reads it. `''` when no known encoding fits.
 */
export function undeclaredEncoding(bytes: Uint8Array): string | undefined {
  if (declaredEncoding(bytes) !== undefined) return undefined;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return undefined;
  } catch {
    return guessLegacyEncoding(bytes) ?? '';
  }
}

export function decodePythonSource(bytes: Uint8Array): string {
  const encoding = declaredEncoding(bytes) ?? 'utf-8';
  try {
    return new TextDecoder(encoding).decode(bytes);
  } catch {
    return new TextDecoder('utf-8').decode(bytes);
  }
}
