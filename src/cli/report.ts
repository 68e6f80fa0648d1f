import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { renderRunReport } from '../training/core/report';
import { EVENTS_FILE, readRun } from '../training/core/runs';
import { isTrlOutputFolder, TRAINER_STATE } from '../training/core/trlOutput';
import { outputProblem } from './options';
import { writeFileAtomically } from '../shared/files';

/** `grpo-studio report RUN_DIR [--out FILE]`: a self-contained HTML report of a run, to share. */
export async function runReport(argv: string[]): Promise<number> {
  const usage = (message: string) => {
    process.stderr.write(`grpo-studio report: ${message}\nUsage: grpo-studio report RUN_DIR [--out FILE] [--force]\n`);
    return 2;
  };
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { out: { type: 'string' }, force: { type: 'boolean', default: false } },
    });
  } catch (error) {
    return usage((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) return usage(positionals.length ? 'only one RUN_DIR, please' : 'RUN_DIR is required');
  const runDir = path.resolve(positionals[0]);
  const trlOutput = isTrlOutputFolder(runDir);
  if (!trlOutput && !fs.existsSync(path.join(runDir, EVENTS_FILE))) {
    process.stderr.write(
      `grpo-studio report: ${runDir} is neither a GRPO Studio run folder (${EVENTS_FILE}) nor a TRL output folder (${TRAINER_STATE}, completions/*.parquet)\n`,
    );
    return 1;
  }
  const out = path.resolve(values.out ?? path.join(runDir, 'report.html'));
  // The default report.html is the report's own file: written again on every report.
  const problem =
    values.out === undefined
      ? undefined
      : outputProblem('--out', values.out, { inputs: [{ option: 'RUN_DIR', path: runDir }], force: values.force });
  if (problem) return usage(problem);
  const { events, notes } = await readRun(runDir);
  for (const note of notes) process.stderr.write(`note: ${note}\n`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  writeFileAtomically(out, renderRunReport(events, path.basename(runDir), notes));
  process.stdout.write(`${out}\n`);
  return 0;
}
