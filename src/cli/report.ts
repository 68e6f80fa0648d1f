import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { renderRunReport } from '../training/core/report';
import { EVENTS_FILE, readRun } from '../training/core/runs';
import { isTrlOutputFolder, TRAINER_STATE } from '../training/core/trlOutput';
import { parseTrackioRunId, TRACKIO_DB_EXTENSION, trackioDirectory, trackioReportFile } from '../training/core/trackio';
import { outputProblem } from './options';
import { writeFileAtomically } from '../shared/files';

/**
 * `grpo-studio report RUN_DIR [--out FILE]`: a self-contained HTML report of a run, to share.
 * RUN_DIR may also be a Trackio project, `PROJECT.db[::RUN]`.
 */
export async function runReport(argv: string[]): Promise<number> {
  const usage = (message: string) => {
    process.stderr.write(`grpo-studio report: ${message}\nUsage: grpo-studio report RUN_DIR|PROJECT.db[::RUN] [--out FILE] [--force]\n`);
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
  const trackio = parseTrackioRunId(runDir);
  if (trackio) {
    if (!fs.existsSync(trackio.db)) {
      process.stderr.write(`grpo-studio report: no Trackio project ${trackio.db} (Trackio keeps them in ${trackioDirectory()})\n`);
      return 1;
    }
  } else if (!isTrlOutputFolder(runDir) && !fs.existsSync(path.join(runDir, EVENTS_FILE))) {
    process.stderr.write(
      `grpo-studio report: ${runDir} is neither a GRPO Studio run folder (${EVENTS_FILE}) nor a TRL output folder (${TRAINER_STATE}, completions/*.parquet) nor a Trackio project (PROJECT.db[::RUN])\n`,
    );
    return 1;
  }
  const name = trackio
    ? `${path.basename(trackio.db, TRACKIO_DB_EXTENSION)}${trackio.run ? `-${trackio.run}` : ''}`
    : path.basename(runDir);
  // A Trackio project lives in Trackio's cache: its report goes to the current folder.
  const out = path.resolve(values.out ?? (trackio ? trackioReportFile(trackio) : path.join(runDir, 'report.html')));
  // The default report.html is the report's own file: written again on every report.
  const problem =
    values.out === undefined
      ? undefined
      : outputProblem('--out', values.out, { inputs: [{ option: 'RUN_DIR', path: trackio?.db ?? runDir }], force: values.force });
  if (problem) return usage(problem);
  let read;
  try {
    read = await readRun(runDir);
  } catch (error) {
    process.stderr.write(`grpo-studio report: ${(error as Error).message}\n`);
    return 1;
  }
  const { events, notes } = read;
  for (const note of notes) process.stderr.write(`note: ${note}\n`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  writeFileAtomically(out, renderRunReport(events, name, notes));
  process.stdout.write(`${out}\n`);
  return 0;
}
