import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parquetMetadata, parquetSchema } from 'hyparquet';
import { readDatasetShape } from '../../shared/datasetReader';
import { filesUnder } from '../../shared/files';
import { LOCAL_DATA } from '../../shared/runConfig';
import type { DatasetFormat } from '../../shared/vocabulary';
import type { Assignment, Expr, FunctionInfo, ModuleSummary } from './pythonModule';
import { exprText, RewardResolver, type ModuleHost, type Scope } from './rewardResolver';

/**
 * The training dataset a trainer call really gets, read statically from the code that builds it:
 * `load_dataset` on local files or a Hub dataset in the local Hugging Face cache (never the
 * network), `Dataset.from_list` / `from_dict` literals, and the transformations applied to them
 * (`.map(f)` with `f` returning a dict literal, `remove_columns`, `rename_column(s)`,
 * `select_columns`, and the row-level ones that keep the columns: `shuffle`, `select`, `filter`, …).
 */
export interface TrainingDataset {
  /** How to name it to the user: `data/qa.jsonl`, `openai/gsm8k (Hugging Face cache)`, `Dataset.from_list(...) at train.py:12`. */
  name: string;
  columns: Set<string>;
  /** The dataset may have columns besides `columns` (a `.map` whose function returns something not read here). */
  open: boolean;
  format?: DatasetFormat;
}

export type DatasetResolution = { dataset: TrainingDataset } | { unresolved: string };

/** The modules of the workspace, and a record of the data paths a resolution looked at (read or missing). */
export interface DatasetHost extends ModuleHost {
  noteData(file: string): void;
  /** What the local Hugging Face cache holds of a Hub dataset (see `hubDataset`). */
  hubDataset(id: string, config: string | undefined): DatasetResolution;
}

/** Methods of `datasets.Dataset` that keep the columns as they are. */
const KEEPS_COLUMNS = new Set([
  'shuffle',
  'select',
  'filter',
  'sort',
  'take',
  'skip',
  'shard',
  'flatten_indices',
  'with_format',
  'cast',
  'cast_column',
  'class_encode_column',
  'train_test_split',
  'repeat',
]);

const LOCAL_BUILDERS = new Set(['json', 'csv', 'parquet', 'text', 'arrow']);
const MAX_DEPTH = 24;

export class DatasetResolver {
  private readonly resolver: RewardResolver;

  constructor(
    private readonly host: DatasetHost,
    /** Folders a relative data path is looked up in after the file's own folder (the workspace roots). */
    private readonly roots: string[],
  ) {
    this.resolver = new RewardResolver(host);
  }

  resolve(expr: Expr, scope: Scope, line: number): DatasetResolution {
    try {
      return this.evaluate(expr, scope, line, 0);
    } catch (error) {
      return { unresolved: `${exprText(expr)}: ${(error as Error).message}` };
    }
  }

  private evaluate(expr: Expr, scope: Scope, line: number, depth: number): DatasetResolution {
    if (depth > MAX_DEPTH) return { unresolved: `${exprText(expr)} is built too indirectly to follow` };
    switch (expr.type) {
      case 'name':
        return this.name(expr.name, scope, line, depth);
      case 'subscript':
        // `dataset["train"]`, `load_dataset(...)["train"]`, `split["train"]`: the split has the dataset's columns.
        return this.evaluate(expr.object, scope, line, depth + 1);
      case 'call':
        return this.call(expr, scope, line, depth);
      default:
        return { unresolved: `${exprText(expr)} is not a dataset expression GRPO Studio can read` };
    }
  }

  /** The value `name` has at `line`: the last assignment before it in the scope, else the module's. */
  private name(name: string, scope: Scope, line: number, depth: number): DatasetResolution {
    const summary = this.host.summaryOf(scope.file);
    if (!summary) return { unresolved: `${name} cannot be read` };
    for (let fn = scope.fn; fn; fn = fn.parent) {
      const local = lastAssignment(summary, name, fn, line);
      if (local) return this.evaluate(local.expr, { file: scope.file, fn }, local.line, depth + 1);
      if (fn.params.some((p) => p.name === name)) return { unresolved: `${name} is a parameter of ${fn.name}()` };
    }
    const atModule = lastAssignment(summary, name, undefined, scope.fn ? Infinity : line);
    if (atModule) return this.evaluate(atModule.expr, { file: scope.file }, atModule.line, depth + 1);
    const binding = summary.bindings.get(name);
    if (binding?.type === 'import-name') {
      const file = this.host.resolveModule(scope.file, binding.module, binding.level);
      if (file && file !== scope.file) return this.name(binding.name, { file }, Infinity, depth + 1);
      return { unresolved: `${name} comes from ${binding.module}, which is not in the workspace` };
    }
    return { unresolved: `${name} is not assigned a dataset GRPO Studio can read` };
  }

  private call(expr: Extract<Expr, { type: 'call' }>, scope: Scope, line: number, depth: number): DatasetResolution {
    const callee = exprText(expr.callee);
    const method = expr.callee.type === 'attribute' ? expr.callee.attr : callee;
    if (method === 'load_dataset') return this.loadDataset(expr, scope);
    if (method === 'from_list' || method === 'from_dict') return this.fromLiteral(expr, method, scope, line);
    if (expr.callee.type !== 'attribute') return { unresolved: `${callee}(...) is not followed by the checker` };
    const source = this.evaluate(expr.callee.object, scope, line, depth + 1);
    if ('unresolved' in source) return source;
    const input = source.dataset;
    const columns = new Set(input.columns);
    const strings = (arg: Expr | undefined): string[] | undefined => (arg ? this.strings(arg, scope, line, input) : undefined);
    switch (method) {
      case 'map':
        return this.map(expr, scope, line, input);
      case 'remove_columns': {
        const removed = strings(expr.args[0] ?? expr.kwargs.get('column_names'));
        if (!removed) return { unresolved: `the columns ${callee}(...) removes cannot be read` };
        for (const column of removed) columns.delete(column);
        return { dataset: { ...input, columns } };
      }
      case 'select_columns': {
        const kept = strings(expr.args[0] ?? expr.kwargs.get('column_names'));
        if (!kept) return { unresolved: `the columns ${callee}(...) keeps cannot be read` };
        return { dataset: { ...input, columns: new Set(kept), open: false } };
      }
      case 'rename_column': {
        const [from, to] = [expr.args[0], expr.args[1]].map((a) => (a?.type === 'string' ? a.value : undefined));
        if (from === undefined || to === undefined) return { unresolved: `the names in ${callee}(...) cannot be read` };
        columns.delete(from);
        columns.add(to);
        return { dataset: { ...input, columns, format: from === 'prompt' ? undefined : input.format } };
      }
      case 'rename_columns': {
        const mapping = expr.args[0] ?? expr.kwargs.get('column_mapping');
        if (mapping?.type !== 'dict' || mapping.open || mapping.spreads.length) {
          return { unresolved: `the mapping in ${callee}(...) cannot be read` };
        }
        for (const { key, value } of mapping.entries) {
          if (value.type !== 'string') return { unresolved: `the mapping in ${callee}(...) cannot be read` };
          columns.delete(key);
          columns.add(value.value);
        }
        return { dataset: { ...input, columns } };
      }
      case 'add_column': {
        const name = expr.args[0] ?? expr.kwargs.get('name');
        if (name?.type !== 'string') return { unresolved: `the column ${callee}(...) adds cannot be read` };
        columns.add(name.value);
        return { dataset: { ...input, columns } };
      }
      default:
        if (KEEPS_COLUMNS.has(method)) return source;
        return { unresolved: `${callee}(...) is not a Dataset method the checker follows` };
    }
  }

  /** `ds.map(f, remove_columns=...)`: the input's columns, updated by what `f` returns, less the removed ones. */
  private map(expr: Extract<Expr, { type: 'call' }>, scope: Scope, line: number, input: TrainingDataset): DatasetResolution {
    const fnExpr = expr.args[0] ?? expr.kwargs.get('function');
    const columns = new Set(input.columns);
    let open = input.open;
    let format = input.format;
    const removedExpr = expr.kwargs.get('remove_columns');
    const removed = removedExpr ? this.strings(removedExpr, scope, line, input) : [];
    if (!removed) return { unresolved: `the columns ${exprText(expr.callee)}(...) removes cannot be read` };
    for (const column of removed) columns.delete(column);
    const value = fnExpr ? this.resolver.evaluate(fnExpr, scope) : { kind: 'unknown' as const };
    const returned = value.kind === 'function' ? returnedDicts(value.fn) : undefined;
    if (!returned) {
      open = true;
      format = undefined;
    } else {
      for (const dict of returned) {
        if (dict.open || dict.spreads.some((s) => !isParam(s, value.kind === 'function' ? value.fn : undefined))) open = true;
        for (const { key, value: item } of dict.entries) {
          columns.add(key);
          if (key === 'prompt') format = literalFormat(item);
        }
      }
    }
    const name = fnExpr ? `${input.name}, .map(${exprText(fnExpr)})` : input.name;
    return { dataset: { name, columns, open, format } };
  }

  /** A list of column names: a string, a list of string literals, or `<dataset>.column_names`. */
  private strings(expr: Expr, scope: Scope, line: number, input: TrainingDataset): string[] | undefined {
    if (expr.type === 'string') return [expr.value];
    if (expr.type === 'sequence') {
      const items = expr.items.map((i) => (i.type === 'string' ? i.value : undefined));
      return items.every((i) => i !== undefined) ? (items as string[]) : undefined;
    }
    if (expr.type === 'attribute' && expr.attr === 'column_names') {
      const of = this.evaluate(expr.object, scope, line, 1);
      if ('dataset' in of && !of.dataset.open) return [...of.dataset.columns];
      return input.open ? undefined : [...input.columns];
    }
    if (expr.type === 'name') {
      const summary = this.host.summaryOf(scope.file);
      const assigned = summary && lastAssignment(summary, expr.name, scope.fn, line);
      return assigned ? this.strings(assigned.expr, scope, assigned.line, input) : undefined;
    }
    return undefined;
  }

  private fromLiteral(
    expr: Extract<Expr, { type: 'call' }>,
    method: 'from_list' | 'from_dict',
    scope: Scope,
    line: number,
  ): DatasetResolution {
    const where = `Dataset.${method}(...) at ${path.basename(scope.file)}:${expr.range.start.line + 1}`;
    let arg: Expr | undefined = expr.args[0] ?? expr.kwargs.get('mapping');
    for (let i = 0; arg?.type === 'name' && i < MAX_DEPTH; i++) {
      const summary = this.host.summaryOf(scope.file);
      const name: string = arg.name;
      arg = summary && (lastAssignment(summary, name, scope.fn, line) ?? lastAssignment(summary, name, undefined, line))?.expr;
    }
    if (method === 'from_dict' && arg?.type === 'dict' && !arg.open && arg.spreads.length === 0) {
      const prompt = arg.entries.find((e) => e.key === 'prompt')?.value;
      const first = prompt?.type === 'sequence' ? prompt.items[0] : undefined;
      return {
        dataset: { name: where, columns: new Set(arg.entries.map((e) => e.key)), open: false, format: first && literalFormat(first) },
      };
    }
    if (method === 'from_list' && arg?.type === 'sequence' && arg.items.length > 0 && arg.items.every((i) => i.type === 'dict')) {
      const rows = arg.items as Extract<Expr, { type: 'dict' }>[];
      const prompt = rows[0].entries.find((e) => e.key === 'prompt')?.value;
      return {
        dataset: {
          name: where,
          columns: new Set(rows.flatMap((r) => r.entries.map((e) => e.key))),
          open: rows.some((r) => r.open || r.spreads.length > 0),
          format: prompt && literalFormat(prompt),
        },
      };
    }
    return { unresolved: `the rows of ${where} are not a literal the checker can read` };
  }

  /** The first of the places `written` may be, each noted: the verdict changes when any of them does. */
  private firstExisting(written: string, dirs: string[]): string | undefined {
    if (/[*?[]/.test(written)) return undefined;
    const candidates = path.isAbsolute(written) ? [written] : dirs.map((d) => path.resolve(d, written));
    for (const candidate of candidates) this.host.noteData(candidate);
    return candidates.find((c) => fs.existsSync(c));
  }

  private loadDataset(expr: Extract<Expr, { type: 'call' }>, scope: Scope): DatasetResolution {
    const first = expr.args[0] ?? expr.kwargs.get('path');
    if (first?.type !== 'string') return { unresolved: `the dataset load_dataset(...) names is not a string literal` };
    const dirs = [path.dirname(scope.file), ...this.roots];
    if (LOCAL_BUILDERS.has(first.value)) {
      const written = dataFilesOf(expr.kwargs.get('data_files'));
      if (!written) return { unresolved: `the data_files of load_dataset("${first.value}", ...) are not string literals` };
      const file = written.map((f) => this.firstExisting(f, dirs)).find((f) => f !== undefined);
      if (!file) return { unresolved: `${written.join(', ')} does not exist (looked in ${dirs.join(', ')})` };
      return { dataset: localFileDataset(file, written[0]) };
    }
    const local = this.firstExisting(first.value, dirs);
    if (local) {
      const file = fs.statSync(local).isDirectory() ? dataFilesIn(local)[0] : local;
      if (!file) return { unresolved: `${first.value} holds no data file the checker reads (.jsonl, .json, .csv, .parquet)` };
      return { dataset: localFileDataset(file, first.value) };
    }
    const config = expr.args[1] ?? expr.kwargs.get('name');
    return this.host.hubDataset(first.value, config?.type === 'string' ? config.value : undefined);
  }
}

/** A Hub dataset as the local Hugging Face cache holds it: the datasets cache's `dataset_info.json`, else the hub cache's files. */
export function hubDataset(id: string, config: string | undefined, env: NodeJS.ProcessEnv = process.env): DatasetResolution {
  const home = env.HF_HOME || path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'huggingface');
  const datasetsCache = env.HF_DATASETS_CACHE || path.join(home, 'datasets');
  const hubCache = env.HF_HUB_CACHE || env.HUGGINGFACE_HUB_CACHE || path.join(home, 'hub');
  const name = `${id} (Hugging Face cache)`;
  const built = path.join(datasetsCache, id.replace(/\//g, '___'));
  for (const info of filesUnder(built, 4, { matches: (name) => name === 'dataset_info.json', followLinks: true })
    .filter((f) => !config || path.relative(built, f).split(path.sep)[0] === config)
    .sort()) {
    const features = (JSON.parse(fs.readFileSync(info, 'utf8')) as { features?: Record<string, unknown> }).features;
    if (features)
      return { dataset: { name, columns: new Set(Object.keys(features)), open: false, format: featureFormat(features.prompt) } };
  }
  const snapshots = path.join(hubCache, `datasets--${id.replace(/\//g, '--')}`, 'snapshots');
  const files = filesUnder(snapshots, 6, { matches: (name) => LOCAL_DATA.test(name), followLinks: true }).sort(
    (a, b) => Number(/train/.test(path.basename(b))) - Number(/train/.test(path.basename(a))) || a.localeCompare(b),
  );
  const preferred = (config && files.find((f) => f.split(path.sep).includes(config))) || files[0];
  if (preferred) return { dataset: { ...localFileDataset(preferred, id), name } };
  return {
    unresolved: `${id} is a Hub dataset that is not in the local Hugging Face cache (${datasetsCache}, ${hubCache}); the checker never downloads it`,
  };
}

function lastAssignment(summary: ModuleSummary, name: string, scope: FunctionInfo | undefined, before: number): Assignment | undefined {
  let found: Assignment | undefined;
  for (const a of summary.assignments) if (a.name === name && a.scope === scope && a.line < before) found = a;
  return found;
}

/** The dict literals a function returns, or undefined when any return is something else. */
function returnedDicts(fn: FunctionInfo): Extract<Expr, { type: 'dict' }>[] | undefined {
  const dicts = fn.returns.map((r) => r.expr);
  if (dicts.length === 0 || dicts.some((d) => d?.type !== 'dict')) return undefined;
  return dicts as Extract<Expr, { type: 'dict' }>[];
}

/** `**example` of the mapped function's own row parameter keeps the row's columns; any other spread adds unknown ones. */
function isParam(expr: Expr, fn: FunctionInfo | undefined): boolean {
  return expr.type === 'name' && fn?.params[0]?.name === expr.name;
}

/** A prompt written as a literal: a list of `{"role": …}` dicts is conversational, a string standard. */
function literalFormat(expr: Expr): DatasetFormat | undefined {
  if (expr.type === 'string') return 'standard';
  if (expr.type === 'sequence' && expr.items.some((i) => i.type === 'dict' && i.entries.some((e) => e.key === 'role'))) {
    return 'conversational';
  }
  if (expr.type === 'call' && exprText(expr.callee).endsWith('.format')) return 'standard';
  return undefined;
}

/** `datasets` features: a list feature (a list of messages) is conversational, a string value standard. */
function featureFormat(feature: unknown): DatasetFormat | undefined {
  if (Array.isArray(feature)) return 'conversational';
  const type = (feature as { _type?: string } | undefined)?._type;
  if (type === 'List' || type === 'Sequence' || type === 'LargeList') return 'conversational';
  return type === 'Value' ? 'standard' : undefined;
}

/** `data_files="a.jsonl"`, `["a.jsonl", …]` or `{"train": "a.jsonl", …}` (the train split first). */
function dataFilesOf(expr: Expr | undefined): string[] | undefined {
  if (!expr) return undefined;
  if (expr.type === 'string') return [expr.value];
  if (expr.type === 'sequence') {
    const items = expr.items.flatMap((i) => dataFilesOf(i) ?? []);
    return items.length ? items : undefined;
  }
  if (expr.type === 'dict') {
    const entries = [...expr.entries].sort((a, b) => Number(b.key === 'train') - Number(a.key === 'train'));
    const items = entries.flatMap((e) => dataFilesOf(e.value) ?? []);
    return items.length ? items : undefined;
  }
  return undefined;
}

function dataFilesIn(dir: string): string[] {
  return filesUnder(dir, 3, { matches: (name) => LOCAL_DATA.test(name), followLinks: true }).sort();
}

function localFileDataset(file: string, written: string): TrainingDataset {
  if (/\.parquet$/i.test(file)) return { name: written, ...parquetColumns(file) };
  const shape = readDatasetShape(file, {});
  if (!shape) throw new Error(`${written} has no whole record in its first part`);
  return { name: written, columns: new Set(shape.columns), open: false, format: shape.format };
}

/** A parquet file's top-level columns, from its footer alone (hyparquet reads the schema). */
function parquetColumns(file: string): { columns: Set<string>; open: boolean; format?: DatasetFormat } {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const tail = Buffer.alloc(Math.min(size, 8));
    fs.readSync(fd, tail, 0, tail.length, size - tail.length);
    const footer = Math.min(size, tail.readUInt32LE(0) + 8);
    const bytes = Buffer.alloc(footer);
    fs.readSync(fd, bytes, 0, footer, size - footer);
    const schema = parquetSchema(parquetMetadata(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)));
    const prompt = schema.children.find((c) => c.element.name === 'prompt');
    return {
      columns: new Set(schema.children.map((c) => c.element.name)),
      open: false,
      format: prompt ? (prompt.children.length > 0 ? 'conversational' : 'standard') : undefined,
    };
  } finally {
    fs.closeSync(fd);
  }
}
