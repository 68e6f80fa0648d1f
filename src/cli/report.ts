import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { renderRunReport } from '../training/core/report';
import { EVENTS_FILE, readEvents } from '../training/core/runs';

/** `grpo-studio report RUN_DIR [--out FILE]`: a self-contained HTML report of a run, to share. */
export async function runReport(argv: string[]): Promise<number> {
  const usage = (message: string) => {
    process.stderr.write(`grpo-studio report: ${message}\nUsage: grpo-studio report RUN_DIR [--out FILE]\n`);
    return 2;
  };
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { out: { type: 'string' } } });
  } catch (error) {
    return usage((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) return usage(positionals.length ? 'only one RUN_DIR, please' : 'RUN_DIR is required');
  const runDir = path.resolve(positionals[0]);
  if (!fs.existsSync(path.join(runDir, EVENTS_FILE))) {
    process.stderr.write(`grpo-studio report: no ${EVENTS_FILE} in ${runDir}\n`);
    return 1;
  }
  const out = path.resolve(values.out ?? path.join(runDir, 'report.html'));
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, renderRunReport(readEvents(runDir), path.basename(runDir)));
  process.stdout.write(`${out}\n`);
  return 0;
}
