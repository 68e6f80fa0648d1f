import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { loadPythonParser } from '../discovery/core/parser';
import { RewardIndex } from '../discovery/core/rewardIndex';
import type { RewardFunction } from '../discovery/core/types';
import { cliLocalizer } from './localizer';
import type { DatasetFormat, Problem } from '../shared/vocabulary';
import { numberOption } from './options';
import { cliPython } from './python';
import { detectTrlProfile, type TrlProfile } from '../discovery/core/trlProfile';

const DEFAULT_MAX_FILE_BYTES = 1024 * 1024;

/** `grpo-studio check`: the editor's discovery and contract engine as a linter. */
export async function runCheck(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      columns: { type: 'string' },
      format: { type: 'string', default: 'auto' },
      'no-shape': { type: 'boolean', default: false },
      'max-file-kb': { type: 'string' },
      'trl-version': { type: 'string' },
      python: { type: 'string' },
    },
  });
  const format = values.format as string;
  if (!['auto', 'standard', 'conversational'].includes(format)) {
    process.stderr.write(`grpo-studio check: --format must be auto, standard or conversational (got '${format}')\n`);
    return 2;
  }
  const targets = (positionals.length ? positionals : ['.']).map((p) => path.resolve(p));
  for (const target of targets) {
    if (!fs.existsSync(target)) {
      process.stderr.write(`grpo-studio check: no such file or folder: ${target}\n`);
      return 2;
    }
  }
  const explicitFiles = new Set(targets.filter((t) => fs.statSync(t).isFile()));
  const roots = [...new Set(targets.map((t) => (explicitFiles.has(t) ? path.dirname(t) : t)))];
  const maxFileKb = values['max-file-kb'] === undefined ? undefined : numberOption(values['max-file-kb'], { integer: true, min: 1 });
  if (values['max-file-kb'] !== undefined && maxFileKb === undefined) {
    process.stderr.write('grpo-studio check: --max-file-kb must be a positive integer\n');
    return 2;
  }
  const maxFileBytes = maxFileKb !== undefined ? maxFileKb * 1024 : DEFAULT_MAX_FILE_BYTES;
  const trlVersion = values['trl-version'];
  if (trlVersion !== undefined && !/^\d+\.\d+(\.\d+)?([\w.+-]*)$/.test(trlVersion)) {
    process.stderr.write(`grpo-studio check: --trl-version must be a release such as 0.22.2 (got '${trlVersion}')\n`);
    return 2;
  }
  if (values.python !== undefined && !fs.existsSync(values.python)) {
    process.stderr.write(`grpo-studio check: --python ${values.python} does not exist\n`);
    return 2;
  }
  // --python only says where to read the installed trl from: nothing is run.
  const trl = detectTrlProfile({
    explicit: trlVersion ? { version: trlVersion, source: '--trl-version' } : undefined,
    python: values.python ?? cliPython().path,
    roots,
  });

  const index = new RewardIndex({
    roots,
    parser: await loadPythonParser(__dirname),
    l10n: cliLocalizer(),
    columns:
      values.columns === undefined
        ? undefined
        : values.columns
            .split(',')
            .map((c) => c.trim())
            .filter(Boolean),
    format: format as DatasetFormat | 'auto',
    byShape: !values['no-shape'],
    maxFileBytes,
    trl,
  });
  index.scan();
  for (const file of explicitFiles) index.update(file);
  const report = index.report();
  for (const { file, reason } of report.unchecked) process.stderr.write(`grpo-studio check: skipped ${display(file)}: ${reason}\n`);
  for (const { file, message } of report.notices) process.stderr.write(`grpo-studio check: ${display(file)}: ${message}\n`);
  for (const file of report.skippedLarge) {
    process.stderr.write(
      `grpo-studio check: skipped ${display(file)} (larger than ${Math.round(maxFileBytes / 1024)} KB; raise --max-file-kb to include it)\n`,
    );
  }

  const inScope = (file: string) =>
    explicitFiles.size === 0 || explicitFiles.has(file) || targets.some((t) => !explicitFiles.has(t) && file.startsWith(t + path.sep));
  const rewards = report.rewards.filter((r) => inScope(r.file) || r.references.some((ref) => inScope(ref.file)));
  const hasError = rewards.some((r) => r.problems.some((p) => p.severity === 'error'));
  const place: Place = (file, line0) => {
    const cell = index.cellOf(file, line0);
    return cell ? { cell: cell.cell, line: cell.line + 1 } : { line: line0 + 1 };
  };

  if (values.json) {
    const functions = rewards.map((r) => toJson(r, place));
    process.stdout.write(`${JSON.stringify({ trl: { version: trl.version, source: trl.source }, functions }, null, 2)}\n`);
  } else {
    process.stdout.write(formatText(rewards, trl, place));
  }
  return hasError ? 1 : 0;
}

function display(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel.split(path.sep).join('/') : file;
}

/** `line` (1-based), with `cell` (0-based among all cells) and the line within it for a notebook. */
type Place = (file: string, line0: number) => { cell?: number; line: number };

function toJson(reward: RewardFunction, place: Place) {
  return {
    name: reward.name,
    file: display(reward.file),
    ...place(reward.file, reward.range.start.line),
    kind: reward.kind,
    async: reward.isAsync,
    ...(reward.notes?.length ? { notes: reward.notes } : {}),
    problems: reward.problems.map((p: Problem) => ({
      severity: p.severity,
      code: p.code,
      message: p.message,
      ...place(p.file, p.range.start.line),
      ...(p.file !== reward.file ? { file: display(p.file) } : {}),
    })),
  };
}

function formatText(rewards: RewardFunction[], trl: TrlProfile, place: Place): string {
  const where = (file: string, line0: number) => {
    const { cell, line } = place(file, line0);
    return cell === undefined ? `${display(file)}:${line}` : `${display(file)}:cell ${cell}:${line}`;
  };
  const lines: string[] = [`TRL ${trl.version} (${trl.source})`];
  let errors = 0;
  let warnings = 0;
  for (const reward of rewards) {
    const flags = [reward.kind, reward.isAsync ? 'async' : ''].filter(Boolean).join(', ');
    lines.push(`${where(reward.file, reward.range.start.line)}: ${reward.name} (${flags})`);
    for (const note of reward.notes ?? []) lines.push(`  note: ${note}`);
    for (const p of reward.problems) {
      if (p.severity === 'error') errors++;
      if (p.severity === 'warning') warnings++;
      lines.push(`  ${where(p.file, p.range.start.line)}:${p.range.start.character + 1}: ${p.severity} ${p.code} ${p.message}`);
    }
  }
  lines.push('', `${rewards.length} reward function(s), ${errors} error(s), ${warnings} warning(s)`);
  return `${lines.join('\n')}\n`;
}
