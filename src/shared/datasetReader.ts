import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DatasetFormat, Message } from './vocabulary';

/** The columns of a local dataset file, after the run config's `column_mapping`. */
export interface DatasetShape {
  file: string;
  columns: string[];
  format: DatasetFormat;
}

/**
 * The local dataset files a run config trains on: `dataset_name` as a path, or the `data_files` of
 * its `datasets` mixture (TRL's DatasetMixtureConfig). JSON Lines, JSON, CSV and TSV only.
 * `cwd` is the folder the runner runs in (the workspace folder in the editor).
 */
export function localDatasetFiles(config: Record<string, unknown>, configDir: string, cwd = process.cwd()): string[] {
  const names: unknown[] = [config.dataset_name ?? config.dataset_path];
  if (Array.isArray(config.datasets)) {
    for (const entry of config.datasets as Record<string, unknown>[]) {
      const files = entry?.data_files;
      if (typeof files === 'string') names.push(files);
      else if (Array.isArray(files)) names.push(...files);
      else if (files && typeof files === 'object') names.push((files as Record<string, unknown>).train);
    }
  }
  const found: string[] = [];
  for (const name of names) {
    if (typeof name !== 'string' || !/\.(jsonl?|csv|tsv)$/i.test(name)) continue;
    // The runner's order: from the working folder (the workspace), then next to the config.
    const file = [path.resolve(cwd, name), path.resolve(configDir, name)].find((candidate) => fs.existsSync(candidate));
    if (file) found.push(file);
  }
  return found;
}

/** How much of a JSON Lines file the pre-flight reads for its columns. */
const SHAPE_BYTES = 8 << 20;
const SHAPE_RECORDS = 1000;

/**
 * The columns of a JSON Lines, JSON, CSV or TSV file as `datasets` infers them: the union of the
 * keys of the first records (up to 1,000 lines or 8 MB of JSON Lines). Undefined when that much
 * holds no whole line. Throws with the line number when a line in it is not JSON.
 */
export function readDatasetShape(file: string, config: Record<string, unknown>): DatasetShape | undefined {
  let records = /\.json$/i.test(file) ? jsonDocumentRecords(file) : undefined;
  if (!records && /\.jsonl?$/i.test(file)) records = jsonLines(file);
  records ??= [Object.fromEntries((parseDelimited(readHead(file, 1 << 16), delimiterOf(file), 1)[0] ?? []).map((c) => [c.trim(), '']))];
  if (records.length === 0) return undefined;
  const mapping = parseMapping(config.column_mapping);
  const keys = new Set(records.flatMap((record) => Object.keys(record)));
  const columns = [...keys].map((c) => mapping[c] ?? c);
  const promptKey = Object.keys(mapping).find((k) => mapping[k] === 'prompt') ?? 'prompt';
  const chat = Boolean(config.chat_format || config.system_prompt) || Array.isArray(records[0][promptKey]);
  return { file, columns, format: chat ? 'conversational' : 'standard' };
}

function jsonLines(file: string): Record<string, unknown>[] {
  const whole = fs.statSync(file).size <= SHAPE_BYTES;
  const head = readHead(file, SHAPE_BYTES);
  const lines = head.split('\n');
  // A last line cut off by the read is not a malformed line.
  if (!whole) lines.pop();
  const records: Record<string, unknown>[] = [];
  for (let i = 0; i < lines.length && records.length < SHAPE_RECORDS; i++) {
    if (!lines[i].trim()) continue;
    try {
      records.push(JSON.parse(lines[i]));
    } catch (error) {
      throw new Error(`${path.basename(file)}:${i + 1} is not valid JSON (${(error as Error).message}): fix that line`);
    }
  }
  if (records.length === 0 && whole) throw new Error(`${path.basename(file)} is empty`);
  return records;
}

/**
 * The first `limit` records of a local dataset file as the runner trains on them: columns renamed
 * by `column_mapping`, prompts made chat messages by `chat_format` / `system_prompt`. Lines that
 * are not JSON objects are reported, not fatal.
 */
export function readDatasetRecords(
  file: string,
  config: Record<string, unknown>,
  limit = Infinity,
): { records: Record<string, unknown>[]; problems: { line: number; message: string }[] } {
  const text = fs.readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  const problems: { line: number; message: string }[] = [];
  let raw: Record<string, unknown>[] = [];
  const document = /\.json$/i.test(file) ? parseJsonDocument(text) : undefined;
  if (document) raw = document.slice(0, limit);
  else if (/\.jsonl?$/i.test(file)) {
    const lines = text.split('\n');
    for (let i = 0; i < lines.length && raw.length < limit; i++) {
      if (!lines[i].trim()) continue;
      try {
        const value = JSON.parse(lines[i]);
        if (value && typeof value === 'object' && !Array.isArray(value)) raw.push(value);
        else problems.push({ line: i + 1, message: 'not a JSON object' });
      } catch (error) {
        problems.push({ line: i + 1, message: `not valid JSON (${(error as Error).message})` });
      }
    }
  } else {
    const [header = [], ...rows] = parseDelimited(text, delimiterOf(file), limit + 1);
    raw = rows.map((cells) => Object.fromEntries(header.map((name, k) => [name.trim(), cells[k] ?? ''])));
  }
  const mapping = parseMapping(config.column_mapping);
  const systemPrompt = typeof config.system_prompt === 'string' ? config.system_prompt : undefined;
  const chat = Boolean(config.chat_format || systemPrompt);
  const records = raw.map((record) => {
    const renamed = Object.fromEntries(Object.entries(record).map(([k, v]) => [mapping[k] ?? k, v]));
    if (chat && 'prompt' in renamed) {
      const prompt = renamed.prompt;
      const messages: Message[] = typeof prompt === 'string' ? [{ role: 'user', content: prompt }] : [...(prompt as Message[])];
      if (systemPrompt && messages[0]?.role !== 'system') messages.unshift({ role: 'system', content: systemPrompt });
      renamed.prompt = messages;
    }
    return renamed;
  });
  return { records, problems };
}

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
      const length = Math.max(...entries.map(([, v]) => (v as unknown[]).length));
      return Array.from({ length }, (_, i) => Object.fromEntries(entries.map(([k, v]) => [k, (v as unknown[])[i]])));
    }
    return [value as Record<string, unknown>];
  }
  return undefined;
}

/** The first records of a JSON document (not JSON Lines), or undefined. */
function jsonDocumentRecords(file: string): Record<string, unknown>[] | undefined {
  return parseJsonDocument(fs.readFileSync(file, 'utf8').replace(/^\uFEFF/, ''))?.slice(0, SHAPE_RECORDS);
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
