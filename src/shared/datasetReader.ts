import * as fs from 'node:fs';
import * as path from 'node:path';
import { applyPromptTransform, mappedColumn, promptTransform, type RunConfigValues } from './runConfig';
import { isPromptValue, type DatasetFormat, type PromptValue } from './vocabulary';
import { extent } from './numbers';
import { decodeUtf8, readUtf8File } from './encoding';

/** The columns of a local dataset file, after the run config's `column_mapping`. */
export interface DatasetShape {
  file: string;
  columns: string[];
  format: DatasetFormat;
}

/** How much of a JSON Lines file the pre-flight reads for its columns. */
const SHAPE_BYTES = 8 << 20;
const SHAPE_RECORDS = 1000;

/**
 * The columns of a JSON Lines, JSON, CSV or TSV file as `datasets` infers them: the union of the
 * keys of the first records (up to 1,000 lines or 8 MB of JSON Lines). Undefined when that much
 * holds no whole line. Throws with the line number when a line in it is not JSON.
 */
export function readDatasetShape(file: string, config: RunConfigValues): DatasetShape | undefined {
  let records = /\.json$/i.test(file) ? jsonDocumentRecords(file) : undefined;
  if (!records && /\.jsonl?$/i.test(file)) records = jsonLines(file);
  records ??= [Object.fromEntries((parseDelimited(readHead(file, 1 << 16), delimiterOf(file), 1)[0] ?? []).map((c) => [c.trim(), '']))];
  if (records.length === 0) return undefined;
  const transform = promptTransform(config);
  const keys = new Set(records.flatMap((record) => Object.keys(record)));
  const columns = [...keys].map((c) => mappedColumn(c, transform));
  const promptKey = [...keys].find((k) => mappedColumn(k, transform) === 'prompt') ?? 'prompt';
  const chat = transform.chat || Array.isArray(records[0][promptKey]);
  return { file, columns, format: chat ? 'conversational' : 'standard' };
}

function jsonLines(file: string): Record<string, unknown>[] {
  const whole = fs.statSync(file).size <= SHAPE_BYTES;
  let head = readHead(file, SHAPE_BYTES);
  // A last line cut off by the read is not a malformed line.
  if (!whole) head = head.slice(0, head.lastIndexOf('\n') + 1);
  const { records, problems } = readJsonLines(head, { limit: SHAPE_RECORDS });
  if (problems.length) throw new Error(`${path.basename(file)}:${problems[0].line} is ${problems[0].message}: fix that line`);
  if (records.length === 0 && whole) throw new Error(`${path.basename(file)} is empty`);
  return records.map((r) => r.value);
}

/**
 * The first `limit` records of a local dataset file as the runner trains on them: columns renamed
 * by `column_mapping`, prompts made chat messages by `chat_format` / `system_prompt`. Lines that
 * are not JSON objects are reported, not fatal.
 */
export function readDatasetRecords(
  file: string,
  config: RunConfigValues,
  limit = Infinity,
): { records: Record<string, unknown>[]; problems: LineProblem[] } {
  const text = readUtf8File(file);
  let problems: LineProblem[] = [];
  let raw: Record<string, unknown>[];
  const document = /\.json$/i.test(file) ? parseJsonDocument(text) : undefined;
  if (document) raw = document.slice(0, limit);
  else if (/\.jsonl?$/i.test(file)) {
    const lines = readJsonLines(text, { limit });
    raw = lines.records.map((r) => r.value);
    problems = lines.problems;
  } else {
    const [header = [], ...rows] = parseDelimited(text, delimiterOf(file), limit + 1);
    raw = rows.map((cells) => Object.fromEntries(header.map((name, k) => [name.trim(), cells[k] ?? ''])));
  }
  const transform = promptTransform(config);
  return { records: raw.map((record) => applyPromptTransform(record, transform)), problems };
}

export interface LineProblem {
  /** One-based. */
  line: number;
  message: string;
}

/** A JSON Lines record with its one-based line number and its text as written. */
export interface JsonLine {
  line: number;
  text: string;
  value: Record<string, unknown>;
}

/**
 * The JSON objects of a JSON Lines text, each with its line; a line that is not a JSON object is a
 * problem with its number (`shape` says what was expected), and the rest still counts. A UTF-8 byte order mark is not part of line 1.
 */
export function readJsonLines(
  text: string,
  { limit = Infinity, shape = 'a JSON object' } = {},
): { records: JsonLine[]; problems: LineProblem[] } {
  const records: JsonLine[] = [];
  const problems: LineProblem[] = [];
  const lines = stripBom(text).split(/\r?\n/);
  for (let i = 0; i < lines.length && records.length < limit; i++) {
    if (!lines[i].trim()) continue;
    let value: unknown;
    try {
      value = JSON.parse(lines[i]);
    } catch (error) {
      problems.push({ line: i + 1, message: `not valid JSON (${(error as Error).message})` });
      continue;
    }
    if (value && typeof value === 'object' && !Array.isArray(value))
      records.push({ line: i + 1, text: lines[i], value: value as Record<string, unknown> });
    else problems.push({ line: i + 1, message: `not ${shape}` });
  }
  return { records, problems };
}

/** A prompt with the other columns of its row (a samples file's completions left out). */
export interface PromptRow {
  prompt: PromptValue;
  /** The other columns, passed to rewards as TRL does. */
  columns: Record<string, unknown>;
}

/**
 * The rows with a usable `prompt` (a string or a message list), up to `limit`. `distinct` drops
 * rows whose prompt came before: `all` (a dataset's repeats), `adjacent` (a sample set's groups:
 * each group's prompt once) or `none`.
 */
export function promptRows(
  records: Record<string, unknown>[],
  { limit = Infinity, distinct = 'none' as 'all' | 'adjacent' | 'none' } = {},
): PromptRow[] {
  const seen = new Set<string>();
  let previous: string | undefined;
  const rows: PromptRow[] = [];
  for (const record of records) {
    if (rows.length >= limit) break;
    const { prompt, completion: _completion, completions: _completions, ...columns } = record;
    if (!isPromptValue(prompt)) continue;
    const key = JSON.stringify(prompt);
    if ((distinct === 'all' && seen.has(key)) || (distinct === 'adjacent' && key === previous)) continue;
    seen.add(key);
    previous = key;
    rows.push({ prompt, columns });
  }
  return rows;
}

const stripBom = (text: string): string => text.replace(/^\uFEFF/, '');

function parseJsonDocument(text: string): Record<string, unknown>[] | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (Array.isArray(value)) return value as Record<string, unknown>[];
  if (value && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length && entries.every(([, v]) => Array.isArray(v))) {
      const length = extent(entries.map(([, v]) => (v as unknown[]).length)).max;
      return Array.from({ length }, (_, i) => Object.fromEntries(entries.map(([k, v]) => [k, (v as unknown[])[i]])));
    }
    return [value as Record<string, unknown>];
  }
  return undefined;
}

/** The first records of a JSON document (not JSON Lines), or undefined. */
function jsonDocumentRecords(file: string): Record<string, unknown>[] | undefined {
  return parseJsonDocument(readUtf8File(file))?.slice(0, SHAPE_RECORDS);
}

function readHead(file: string, bytes: number): string {
  const fd = fs.openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    const read = fs.readSync(fd, buffer, 0, bytes, 0);
    return decodeUtf8(buffer.subarray(0, read), file, { partial: read === bytes });
  } finally {
    fs.closeSync(fd);
  }
}

/** Rows of a CSV/TSV text (quoted cells may hold delimiters, quotes and line breaks). */
function parseDelimited(text: string, delimiter: string, maxRows: number): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length && rows.length < maxRows; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === delimiter) {
      row.push(cell);
      cell = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(cell);
      if (row.some((c) => c !== '')) rows.push(row);
      row = [];
      cell = '';
    } else cell += ch;
  }
  row.push(cell);
  if (rows.length < maxRows && row.some((c) => c !== '')) rows.push(row);
  return rows;
}

function delimiterOf(file: string): string {
  return /\.tsv$/i.test(file) ? '\t' : ',';
}
