import * as fs from 'node:fs';
import * as path from 'node:path';

/** Writes `file` through a temporary file next to it, so a failed write leaves the old one whole. */
export function writeFileAtomically(file: string, contents: string): void {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    fs.writeFileSync(temporary, contents);
    fs.renameSync(temporary, file);
  } finally {
    fs.rmSync(temporary, { force: true });
  }
}

/**
 * Files under `dir` that `matches` accepts, `depth` folders down, entering only the folders `enter`
 * accepts. With `followLinks`, symlinked folders are entered and symlinked files matched (the
 * Hugging Face hub cache's snapshots are symlinks into its blobs).
 */
export function filesUnder(
  dir: string,
  depth: number,
  options: { matches: (name: string) => boolean; enter?: (name: string) => boolean; followLinks?: boolean },
): string[] {
  let entries: fs.Dirent[];
  // The usual answer (no such folder) without the cost of an exception.
  if (!fs.existsSync(dir)) return [];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const full = path.join(dir, entry.name);
    const linked = options.followLinks && entry.isSymbolicLink() ? statOrUndefined(full) : undefined;
    if (entry.isDirectory() || linked?.isDirectory()) {
      return depth > 0 && (options.enter?.(entry.name) ?? true) ? filesUnder(full, depth - 1, options) : [];
    }
    return (entry.isFile() || linked?.isFile()) && options.matches(entry.name) ? [full] : [];
  });
}

function statOrUndefined(file: string): fs.Stats | undefined {
  try {
    return fs.statSync(file);
  } catch {
    return undefined;
  }
}
