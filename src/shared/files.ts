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
