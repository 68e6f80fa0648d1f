import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Parser } from 'web-tree-sitter';
import { parse } from 'yaml';
import { Code } from '../../discovery/core/contract';
import { RewardIndex } from '../../discovery/core/rewardIndex';
import type { DatasetFormat, Localizer, Problem } from '../../discovery/core/types';
import type { PreflightIssue } from './preflight';

/** The columns of a local dataset file, after the run config's `column_mapping`. */
export interface DatasetShape {
  file: string;
  columns: string[];
  format: DatasetFormat;
}

/** The local dataset file a run config trains on (`dataset_name` as a path), when it has one. */
export function localDatasetFile(config: Record<string, unknown>, configDir: string): string | undefined {
  const name = config.dataset_name ?? config.dataset_path;
  if (typeof name !== 'string' || !/\.(jsonl?|csv|tsv)$/i.test(name)) return undefined;
  for (const candidate of [path.resolve(configDir, name), path.resolve(name)]) {
    if (fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Reads the header of a JSON Lines, JSON array, CSV or TSV file (the first record, as `datasets`
 * infers its features from the data). Throws with the line number when that record is malformed.
 */
export function readDatasetShape(file: string, config: Record<string, unknown>): DatasetShape {
  let record = /\.json$/i.test(file) ? firstJsonRecord(file) : undefined;
  if (!record && /\.jsonl?$/i.test(file)) record = firstJsonLine(readHead(file, 1 << 20), file);
  record ??= Object.fromEntries(
    splitDelimited(readHead(file, 1 << 16).split(/\r?\n/)[0] ?? '', /\.tsv$/i.test(file) ? '\t' : ',').map((c) => [c, '']),
  );
  const mapping = parseMapping(config.column_mapping);
  const columns = Object.keys(record).map((c) => mapping[c] ?? c);
  const chat = Boolean(config.chat_format || config.system_prompt) || Array.isArray(record[Object.keys(mapping).find((k) => mapping[k] === 'prompt') ?? 'prompt']);
  return { file, columns, format: chat ? 'conversational' : 'standard' };
}

export interface DatasetCheckOptions {
  roots: string[];
  parser: Parser;
  l10n: Localizer;
}

/**
 * Pre-flight of the run config's local dataset: readable, with the columns the run needs. A hub
 * dataset or a Parquet file is left to the runner (an info line says so).
 */
export function runConfigDatasetIssues(configFile: string, options: DatasetCheckOptions): PreflightIssue[] {
  let config: Record<string, unknown>;
  try {
    config = (parse(fs.readFileSync(configFile, 'utf8')) ?? {}) as Record<string, unknown>;
  } catch {
    return []; // The config check reports an unreadable config.
  }
  const file = localDatasetFile(config, path.dirname(configFile));
  if (!file) {
    return config.dataset_name ? [{ severity: 'info', message: `dataset ${String(config.dataset_name)}: columns are checked when it loads` }] : [];
  }
  let shape: DatasetShape;
  try {
    shape = readDatasetShape(file, config);
  } catch (error) {
    return [{ severity: 'error', message: (error as Error).message }];
  }
  return datasetIssues({ ...options, configFile, shape });
}

/**
 * What the dataset lacks for this run: a `prompt` column (GRPOTrainer reads it) and the columns
 * the config's rewards take as required parameters (TRL passes columns by name; a missing one is
 * a TypeError after the model has loaded).
 */
export function datasetIssues(options: DatasetCheckOptions & { configFile: string; shape: DatasetShape }): PreflightIssue[] {
  const { configFile, shape } = options;
  const issues: PreflightIssue[] = [];
  const listed = shape.columns.join(', ') || '—';
  if (!shape.columns.includes('prompt')) {
    issues.push({
      severity: 'error',
      message: `${path.basename(shape.file)} has no 'prompt' column (columns: ${listed}): rename one with column_mapping, e.g. column_mapping: {question: prompt}`,
    });
  }
  const index = new RewardIndex({
    roots: options.roots,
    parser: options.parser,
    l10n: options.l10n,
    columns: shape.columns.filter((c) => c !== 'prompt'),
    format: shape.format,
    byShape: false,
    maxFileBytes: 4 << 20,
  });
  index.scan();
  index.update(configFile);
  const missing: Problem[] = index.report().rewards
    .filter((r) => r.references.some((ref) => ref.file === configFile))
    .flatMap((r) => r.problems.filter((p) => p.code === Code.missingColumn && p.severity === 'error'));
  for (const problem of missing) {
    issues.push({ severity: 'error', message: `${path.basename(problem.file)}:${problem.range.start.line + 1}: ${problem.message}` });
  }
  return issues;
}

/** A JSON document as `datasets` reads it (an array of records, or columns of equal-length arrays); undefined for JSON Lines. */
function firstJsonRecord(file: string): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(fs.readFileSync(file, 'utf8').replace(/^\uFEFF/, ''));
  } catch {
    return undefined;
  }
  if (Array.isArray(value)) return (value[0] ?? {}) as Record<string, unknown>;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length && entries.every(([, v]) => Array.isArray(v))) return Object.fromEntries(entries.map(([k, v]) => [k, (v as unknown[])[0]]));
    return value as Record<string, unknown>;
  }
  return undefined;
}

function firstJsonLine(head: string, file: string): Record<string, unknown> {
  const lines = head.split('\n');
  const index = lines.findIndex((line) => line.trim() !== '');
  if (index < 0) throw new Error(`${path.basename(file)} is empty`);
  try {
    return JSON.parse(lines[index]);
  } catch (error) {
    throw new Error(`${path.basename(file)}:${index + 1} is not valid JSON (${(error as Error).message}): fix that line`);
  }
}

function readHead(file: string, bytes: number): string {
  const fd = fs.openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    const read = fs.readSync(fd, buffer, 0, bytes, 0);
    return buffer.subarray(0, read).toString('utf8').replace(/^\uFEFF/, '');
  } finally {
    fs.closeSync(fd);
  }
}

function splitDelimited(line: string, delimiter: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === delimiter) {
      cells.push(cell.trim());
      cell = '';
    } else cell += ch;
  }
  cells.push(cell.trim());
  return cells.filter(Boolean);
}

function parseMapping(value: unknown): Record<string, string> {
  if (typeof value === 'string') {
    try {
      return parseMapping(JSON.parse(value));
    } catch {
      return {};
    }
  }
  if (!value || typeof value !== 'object') return {};
  return Object.fromEntries(Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}
