import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Parser } from 'web-tree-sitter';
import { parseDocument } from 'yaml';
import { checkCallable, Code, releaseNote, type CheckContext, type CheckTarget } from './contract';
import { DatasetResolver, hubDataset, type DatasetHost, type DatasetResolution } from './datasetResolver';
import { NEWEST_PROFILE, trainerProfile, type TrlProfile } from './trlProfile';
import { cellPosition, notebookModule, type CellSpan } from './notebook';
import { EditedModuleTree } from './editedTree';
import { NotebookSummaries } from './notebookSummary';
import { parsePython } from './parser';
import { summarizeModule, type ClassInfo, type FunctionInfo, type ModuleSummary } from './pythonModule';
import { PartCache, type FunctionPart } from './summaryParts';
import { exprText, RewardResolver, type ModuleHost, type Value } from './rewardResolver';
import { decodePythonSource, sourceKindOf, undeclaredEncoding, walkSourceFiles, type SourceKind } from './sourceFiles';
import { readConfigRewardEntries, TRL_BUILTIN_REWARDS, type ConfigRewardEntry } from './trlConfig';
import type { RewardFunction, RewardKind, RewardOrigin } from './types';
import type { DatasetFormat, Localizer, Problem, Range } from '../../shared/vocabulary';
import { readDatasetShape } from '../../shared/datasetReader';
import { LOCAL_DATA, namedDataFiles, trainingDataFiles, type RunConfigValues } from '../../shared/runConfig';
import { compareVersions } from '../../shared/trlReleases';

/**
 * A file is parsed up front only if it may wire a reward (`reward_funcs=`), define one (a `def`
 * taking `completions`/`prompts`, one taking `completion` first, or named like a reward, a
 * reward-like class) or build a dataset
 * with a `prompt` column. Every other file is parsed when an import leads to it.
 */
const MAY_DEFINE_OR_WIRE =
  /reward_funcs\s*[=:]|\bdef\s+[^\s(]*reward[^\s(]*\s*\(|\bdef\s+[^\s(]+\s*\([^)]*\b(?:completions|prompts)\b|\bdef\s+[^\s(]+\s*\(\s*completion\b|\bclass\s+[^\s(:]*(?:Reward|Scor|Judge)|["']prompt["']\s*:/i;

export interface IndexOptions {
  roots: string[];
  parser: Parser;
  l10n: Localizer;
  /** Declared dataset columns (besides `prompt`), or undefined when unknown. */
  columns?: string[];
  /** Where the declared columns come from, for messages (a data file's name); "the declared columns" when not given. */
  columnsName?: string;
  /** `auto` reads the workspace's own dataset code for evidence of message lists. */
  format: DatasetFormat | 'auto';
  byShape: boolean;
  maxFileBytes: number;
  isExcluded?: (absPath: string, isDirectory: boolean) => boolean;
  /** The TRL release the verdicts are for (the newest known when not given). */
  trl?: TrlProfile;
}

interface FileEntry {
  kind: SourceKind;
  size: number;
  /** Unsaved editor content, when the editor has the file open. */
  text?: string;
  summary?: ModuleSummary;
  configEntries?: ConfigRewardEntry[];
  /** A run config's values, for the dataset it trains on. */
  configValues?: RunConfigValues;
  parsed: boolean;
  /** Why the file is not checked (too big for the parser, too deeply nested). */
  skipped?: string;
  /** What Python will say about the file that the checker does not (an encoding it refuses). */
  notice?: string;
  /** A notebook's code cells in its module text. */
  cells?: CellSpan[];
}

/** What one file contributes: the rewards it wires or defines, and the files that took part. */
interface FileResult {
  rewards: RewardFunction[];
  dependencies: Set<string>;
  /** The data files and folders its datasets were read from or looked for in. */
  dataPaths: Set<string>;
}

export interface DiscoveryReport {
  rewards: RewardFunction[];
  problemsByFile: Map<string, Problem[]>;
  /** Files left out because they are larger than `maxFileBytes`. */
  skippedLarge: string[];
  /** Other files read but not checked, each with why and what to do. */
  unchecked: { file: string; reason: string }[];
  /** Files checked with something to know (Python refuses to import them). */
  notices: { file: string; message: string }[];
}

/**
 * Sources larger than this are never given to the parser, whatever maxFileBytes says: tree-sitter
 * needs ~160 MB of memory per MB of Python and aborts past ~20 MB.
 */
export const PARSER_LIMIT_BYTES = 16 << 20;

const NOTEBOOK_SIZE_FACTOR = 32;

/**
 * A module being edited: its tree, which the next edit re-parses only where it changed, and its
 * functions' summaries, which the next summary reuses where unchanged.
 */
interface EditedModule {
  tree: EditedModuleTree;
  functions: PartCache<FunctionPart>;
}

/** How many edited modules keep their tree (about ten times its source in memory: 2.2 MB for a 214 KB module). */
const EDITED_MODULES_KEPT = 3;

const ZERO_RANGE: Range = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };

export class RewardIndex implements ModuleHost {
  private readonly files = new Map<string, FileEntry>();
  private readonly results = new Map<string, FileResult>();
  private columnsSeen: ReadonlySet<string> = new Set();
  /** Names any workspace module calls with positional arguments inside a function: helpers, wherever they are defined. */
  private calledAsHelper: ReadonlySet<string> = new Set();
  private contextKey = '';

  private readonly notebooks: NotebookSummaries;
  private readonly edited = new Map<string, EditedModule>();
  /** The Hub datasets looked up in the Hugging Face cache during one report: a test file loads the same one a hundred times. */
  private readonly hubDatasets = new Map<string, DatasetResolution>();

  constructor(private readonly options: IndexOptions) {
    this.notebooks = new NotebookSummaries(options.parser);
  }

  /** Cold scan of every root. */
  scan(): void {
    this.files.clear();
    this.results.clear();
    for (const file of walkSourceFiles(this.options.roots, { isExcluded: this.options.isExcluded })) {
      this.files.set(file.path, { kind: file.kind, size: file.size, parsed: false });
    }
    for (const [file, entry] of this.files) {
      if (this.tooLarge(entry)) continue;
      if (entry.kind === 'config') this.loadConfig(file, entry);
      else {
        const text = this.readText(file, entry);
        if (text !== undefined && MAY_DEFINE_OR_WIRE.test(text)) this.parse(file, entry, text);
      }
    }
  }

  /**
   * Re-reads one file (from `text`, the editor's buffer, or from disk) and forgets the results of
   * that file and of the files whose resolution went through it. Returns those files.
   */
  update(file: string, text?: string): string[] {
    const kind = sourceKindOf(file);
    if (!kind || !this.isInRoots(file)) return [];
    const size = text !== undefined ? Buffer.byteLength(text) : statSize(file);
    if (size === undefined) return this.remove(file);
    const entry: FileEntry = { kind, size, text, parsed: false };
    this.files.set(file, entry);
    if (!this.tooLarge(entry)) {
      if (kind === 'config') this.loadConfig(file, entry);
      else {
        const source = this.readText(file, entry);
        if (source !== undefined) this.parse(file, entry, source, true);
      }
    }
    return this.invalidate(file);
  }

  /**
   * A data file was written, created or deleted: the verdicts of the trainers and configs whose
   * dataset is that file, lies in that folder, or was looked for there are redone. Returns their files.
   */
  dataChanged(file: string): string[] {
    const touches = (dataPath: string) => dataPath === file || file.startsWith(dataPath + path.sep);
    const affected = [...this.results].filter(([, result]) => [...result.dataPaths].some(touches)).map(([source]) => source);
    for (const source of affected) this.results.delete(source);
    return affected;
  }

  remove(file: string): string[] {
    this.notebooks.forget(file);
    this.forgetEdits(file);
    if (!this.files.delete(file)) return [];
    return this.invalidate(file);
  }

  /** Whether `file` is something the index reads (a `.py` or YAML file under a root, not excluded). */
  tracks(file: string): boolean {
    return this.files.has(file);
  }

  report(): DiscoveryReport {
    this.hubDatasets.clear();
    this.refreshContext();
    for (const [file, entry] of this.files) {
      if (this.results.has(file) || !entry.parsed) continue;
      try {
        this.results.set(file, this.resolveFile(file, entry));
      } catch (error) {
        if (!(error instanceof RangeError)) throw error;
        // An expression nested thousands deep (a 100,000-item literal) exhausts the resolver's stack.
        entry.parsed = false;
        entry.skipped = this.options.l10n.t(
          'nested too deeply for the checker (thousands of levels of brackets, calls or defs): not checked',
        );
      }
    }
    const merged = new Map<string, RewardFunction>();
    const wiredLocations = new Set<string>();
    for (const result of this.results.values()) {
      for (const reward of result.rewards) {
        if (reward.origin !== 'shape') wiredLocations.add(locationKey(reward));
      }
    }
    for (const result of this.results.values()) {
      for (const reward of result.rewards) {
        if (reward.origin === 'shape' && wiredLocations.has(locationKey(reward))) continue;
        const key = `${locationKey(reward)}:${reward.kind}:${reward.name}`;
        const existing = merged.get(key);
        if (!existing) {
          merged.set(key, { ...reward, references: [...reward.references], problems: [...reward.problems] });
          continue;
        }
        existing.references.push(...reward.references);
        for (const note of reward.notes ?? []) if (!existing.notes?.includes(note)) existing.notes = [...(existing.notes ?? []), note];
        for (const p of reward.problems) {
          if (!existing.problems.some((q) => sameProblem(p, q))) existing.problems.push(p);
        }
      }
    }
    const rewards = [...merged.values()].sort(
      (a, b) => a.file.localeCompare(b.file) || a.range.start.line - b.range.start.line || a.name.localeCompare(b.name),
    );
    const problemsByFile = new Map<string, Problem[]>();
    for (const reward of rewards) {
      for (const problem of reward.problems) {
        const list = problemsByFile.get(problem.file) ?? [];
        if (!list.some((q) => sameProblem(problem, q))) list.push(problem);
        problemsByFile.set(problem.file, list);
      }
    }
    const skippedLarge = [...this.files].filter(([, e]) => this.tooLarge(e)).map(([f]) => f);
    const unchecked = [...this.files].flatMap(([file, e]) => (e.skipped ? [{ file, reason: e.skipped }] : []));
    const notices = [...this.files].flatMap(([file, e]) => (e.notice ? [{ file, message: e.notice }] : []));
    return { rewards, problemsByFile, skippedLarge, unchecked, notices };
  }

  // Modules, as a resolution reads them

  isPythonFile(file: string): boolean {
    return this.files.get(file)?.kind === 'python';
  }

  summaryOf(file: string): ModuleSummary | undefined {
    const entry = this.files.get(file);
    if (!entry || entry.kind === 'config') return undefined;
    if (!entry.parsed && !this.tooLarge(entry)) {
      const text = this.readText(file, entry);
      if (text !== undefined) this.parse(file, entry, text);
    }
    return entry.summary;
  }

  resolveModule(fromFile: string, module: string, level: number): string | undefined {
    const parts = module ? module.split('.') : [];
    const bases: string[] = [];
    if (level > 0) {
      let base = path.dirname(fromFile);
      for (let i = 1; i < level; i++) base = path.dirname(base);
      bases.push(base);
    } else {
      for (let dir = path.dirname(fromFile); ; dir = path.dirname(dir)) {
        bases.push(dir);
        if (this.options.roots.includes(dir) || path.dirname(dir) === dir) break;
      }
      for (const root of this.options.roots) bases.push(root, path.join(root, 'src'));
    }
    for (const base of bases) {
      const found = this.moduleFile(path.join(base, ...parts), parts.length === 0);
      if (found) return found;
    }
    return undefined;
  }

  resolveSubmodule(packageFile: string, name: string): string | undefined {
    return this.moduleFile(path.join(path.dirname(packageFile), name), false);
  }

  hubDataset(id: string, config: string | undefined): DatasetResolution {
    const key = `${id}\n${config ?? ''}`;
    let found = this.hubDatasets.get(key);
    if (!found) this.hubDatasets.set(key, (found = hubDataset(id, config)));
    return found;
  }

  private moduleFile(stem: string, packageOnly: boolean): string | undefined {
    const candidates = packageOnly ? [path.join(stem, '__init__.py')] : [`${stem}.py`, path.join(stem, '__init__.py')];
    for (const candidate of candidates) {
      if (this.files.get(candidate)?.kind === 'python') return candidate;
    }
    return undefined;
  }

  // Internals

  /** Over the size limit; a notebook's file is mostly its outputs (images), so its limit is larger. */
  private tooLarge(entry: FileEntry): boolean {
    return entry.size > this.options.maxFileBytes * (entry.kind === 'notebook' ? NOTEBOOK_SIZE_FACTOR : 1);
  }

  private isInRoots(file: string): boolean {
    if (this.options.isExcluded?.(file, false)) return false;
    return this.options.roots.some((root) => {
      const rel = path.relative(root, file);
      return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
    });
  }

  private readText(file: string, entry: FileEntry): string | undefined {
    if (entry.text !== undefined) return entry.kind === 'notebook' ? this.notebookText(entry, entry.text) : entry.text;
    const { l10n } = this.options;
    try {
      const bytes = fs.readFileSync(file);
      if (entry.kind === 'notebook') return this.notebookText(entry, new TextDecoder('utf-8').decode(bytes));
      const legacy = entry.kind === 'python' ? undeclaredEncoding(bytes) : undefined;
      // Read as Python would not: the rewards are still listed, and the notice says why they cannot run.
      entry.notice = undefined;
      if (legacy !== undefined) {
        entry.notice = legacy
          ? l10n.t(
              "not UTF-8 (looks like {0}) and no coding line: Python refuses to import it (SyntaxError). Convert it to UTF-8, or add '# -*- coding: {1} -*-' as its first line",
              legacy === 'shift_jis' ? 'Shift_JIS' : legacy.toUpperCase(),
              legacy,
            )
          : l10n.t('not UTF-8 and no coding line: Python refuses to import it (SyntaxError). Convert it to UTF-8');
      }
      return decodePythonSource(bytes);
    } catch {
      return undefined;
    }
  }

  /** A notebook's code cells as one module; one that is not a notebook is skipped, with why. */
  private notebookText(entry: FileEntry, text: string): string | undefined {
    const module = notebookModule(text);
    if ('error' in module) {
      entry.skipped = module.error;
      entry.cells = undefined;
      return undefined;
    }
    entry.skipped = undefined;
    entry.cells = module.cells;
    return module.source;
  }

  /** For a notebook: the cell (0-based among all cells) and the line in it of a 0-based line of its module text. */
  cellOf(file: string, line: number): { cell: number; line: number } | undefined {
    const cells = this.files.get(file)?.cells;
    return cells && cellPosition(cells, line);
  }

  /**
   * Summarizes a module; a file the parser or the summarizer cannot walk is skipped, with why. An
   * `edit` of a module keeps its tree and summaries so that the next edit re-reads only what changed.
   */
  private parse(file: string, entry: FileEntry, text: string, edit = false): void {
    const { l10n } = this.options;
    this.results.delete(file);
    if (text.length > PARSER_LIMIT_BYTES) {
      entry.skipped = l10n.t(
        '{0} MB: too large for the Python parser (the limit is {1} MB whatever the size setting)',
        Math.round(text.length / 2 ** 20),
        PARSER_LIMIT_BYTES >> 20,
      );
      return;
    }
    let tree;
    // An edited module's tree and summaries are kept for its next edit; otherwise its tree is freed.
    let module = this.edited.get(file);
    this.edited.delete(file);
    try {
      if (entry.cells) {
        entry.summary = this.notebooks.summarize(file, text, entry.cells);
      } else if (edit) {
        module ??= { tree: new EditedModuleTree(this.options.parser, text), functions: new PartCache() };
        module.tree.update(text);
        entry.summary = summarizeModule(module.tree, module.functions);
        this.keepEdited(file, module);
        module = undefined;
      } else {
        tree = parsePython(this.options.parser, text);
        entry.summary = summarizeModule(tree);
      }
      entry.parsed = true;
      entry.skipped = undefined;
    } catch (error) {
      // Thousands of nested brackets or defs exhaust the stack of the walk; the rest of the workspace is still checked.
      entry.skipped =
        error instanceof RangeError
          ? l10n.t('nested too deeply for the checker (thousands of levels of brackets, calls or defs): not checked')
          : l10n.t('the Python parser failed on it ({0}): not checked', (error as Error).message);
    } finally {
      tree?.delete();
      module?.tree.delete();
    }
  }

  private keepEdited(file: string, module: EditedModule): void {
    this.edited.set(file, module);
    for (const [oldest] of this.edited) {
      if (this.edited.size <= EDITED_MODULES_KEPT) break;
      this.forgetEdits(oldest);
    }
  }

  private forgetEdits(file: string): void {
    this.edited.get(file)?.tree.delete();
    this.edited.delete(file);
  }

  private loadConfig(file: string, entry: FileEntry): void {
    let text = entry.text;
    if (text === undefined) {
      try {
        text = fs.readFileSync(file, 'utf8');
      } catch {
        return;
      }
    }
    try {
      entry.configEntries = readConfigRewardEntries(text);
      const values = parseDocument(text).toJS() as unknown;
      entry.configValues = values && typeof values === 'object' && !Array.isArray(values) ? (values as RunConfigValues) : {};
    } catch {
      entry.configEntries = undefined;
    }
    entry.parsed = entry.configEntries !== undefined;
  }

  private invalidate(file: string): string[] {
    const affected = [file];
    this.results.delete(file);
    for (const [other, result] of this.results) {
      if (result.dependencies.has(file)) {
        this.results.delete(other);
        affected.push(other);
      }
    }
    return affected;
  }

  /** Facts gathered from the whole workspace (columns its code builds, helpers it calls); when they change, every verdict is redone. */
  private refreshContext(): void {
    const columnsSeen = new Set<string>();
    const calledAsHelper = new Set<string>();
    for (const entry of this.files.values()) {
      for (const column of entry.summary?.columnsSeen ?? []) columnsSeen.add(column);
      for (const name of entry.summary?.helperCalls ?? []) calledAsHelper.add(name);
    }
    const key = JSON.stringify([[...columnsSeen].sort(), [...calledAsHelper].sort()]);
    if (key !== this.contextKey) {
      this.results.clear();
      this.contextKey = key;
    }
    this.columnsSeen = columnsSeen;
    this.calledAsHelper = calledAsHelper;
  }

  private resolveFile(file: string, entry: FileEntry): FileResult {
    const resolution = new Resolution(this, file);
    const dependencies = resolution.dependencies;
    const rewards: RewardFunction[] = [];
    if (entry.kind === 'config') {
      const context = this.datasetContext(this.configDataset(file, entry.configValues ?? {}, resolution));
      for (const configEntry of entry.configEntries ?? []) rewards.push(this.fromConfigEntry(resolution, file, configEntry, context));
      return { rewards, dependencies, dataPaths: resolution.dataPaths };
    }
    const summary = entry.summary!;
    for (const call of summary.trainerCalls) {
      const dataset = call.trainDataset
        ? new DatasetResolver(resolution, this.options.roots).resolve(call.trainDataset, { file, fn: call.scope }, call.range.start.line)
        : { unresolved: this.options.l10n.t('the trainer call has no train_dataset=') };
      const trl = trainerProfile(this.trlProfile(), call.trainer);
      const unslothVisionText = importsFromUnsloth(summary, 'FastVisionModel') && compareVersions(trl.version, '0.24.0') >= 0;
      const context = { ...this.datasetContext(dataset, summary), trl, unslothVisionText };
      const unsloth = !importsFromUnsloth(summary)
        ? undefined
        : unslothVisionText
          ? this.options.l10n.t(
              "Trained through Unsloth with a vision model (FastVisionModel): from TRL 0.24 Unsloth calls the rewards with the prompts rendered as chat text and the completions decoded to strings, whatever the dataset's format; checked that way for TRL {0} ({1}).",
              trl.version,
              trl.source,
            )
          : this.options.l10n.t(
              'Trained through Unsloth, which patches GRPOTrainer but calls reward functions as TRL does: checked for TRL {0} ({1}).',
              trl.version,
              trl.source,
            );
      for (const { expr, value } of resolution.resolver.entries(call.rewardFuncs, { file, fn: call.scope })) {
        const reward = this.toReward(resolution, value, exprText(expr), 'trainer', context, { file, range: expr.range });
        if (reward && unsloth) reward.notes = [unsloth];
        if (reward) rewards.push(reward);
      }
    }
    const shapeContext = this.datasetContext(undefined, summary);
    if (this.options.byShape) {
      for (const fn of summary.functions) {
        const shape = rewardShape(fn, summary, this.calledAsHelper);
        if (!shape || (shape === 'draft' && this.calledFromUnparsed(fn.name))) continue;
        if (fn.className) {
          const cls = summary.classes.find((c) => c.methods.get('__call__') === fn);
          if (cls) {
            const reward = this.toReward(resolution, { kind: 'instance', cls, file }, cls.name, 'shape', shapeContext);
            if (reward) rewards.push(reward);
          }
          continue;
        }
        const reward = this.toReward(
          resolution,
          { kind: 'function', fn, file, boundPositional: 0, boundKeywords: [] },
          fn.name,
          'shape',
          shapeContext,
        );
        if (reward) rewards.push(shape === 'draft' ? this.asDraft(reward) : reward);
      }
    }
    return { rewards, dependencies, dataPaths: resolution.dataPaths };
  }

  /**
   * What the checker knows of one trainer's data: the declared columns and format win; else the
   * dataset resolved from the code or config that builds it; else, for the format only, evidence in
   * the module itself (a dict literal with a chat `prompt`), which decides warnings, never errors.
   */
  private datasetContext(resolution: DatasetResolution | undefined, summary?: ModuleSummary): CheckContext {
    const { l10n } = this.options;
    const resolved = resolution && 'dataset' in resolution ? resolution.dataset : undefined;
    const declaredFormat = this.options.format !== 'auto' ? this.options.format : undefined;
    const columnsSeen = new Set(this.columnsSeen);
    for (const column of resolved?.columns ?? []) columnsSeen.add(column);
    const columns = this.options.columns
      ? new Set(this.options.columns)
      : resolved && !resolved.open
        ? new Set([...resolved.columns].filter((c) => c !== 'prompt'))
        : undefined;
    const format = declaredFormat ?? resolved?.format ?? (summary?.conversationalEvidence ? 'conversational' : undefined);
    return {
      dataset: {
        columns,
        format,
        formatDeclared: declaredFormat !== undefined || resolved?.format !== undefined,
        name: this.options.columns ? (this.options.columnsName ?? l10n.t('the declared columns')) : resolved?.name,
        unresolved: resolution && 'unresolved' in resolution ? resolution.unresolved : undefined,
      },
      columnsSeen,
      trl: this.trlProfile(),
    };
  }

  private trlProfile(): TrlProfile {
    return this.options.trl ?? NEWEST_PROFILE;
  }

  /** The dataset a run config trains on: its first local train file (after column_mapping), or a Hub dataset in the local cache. */
  private configDataset(file: string, values: RunConfigValues, resolution: Resolution): DatasetResolution {
    const dirs = [...this.options.roots, path.dirname(file)];
    for (const named of namedDataFiles(values, dirs)) for (const dir of dirs) resolution.noteData(path.resolve(dir, named.value));
    const local = trainingDataFiles(values, dirs)[0];
    if (local) {
      try {
        const shape = readDatasetShape(local, values);
        if (shape)
          return {
            dataset: {
              name: path.relative(path.dirname(file), local) || local,
              columns: new Set(shape.columns),
              open: false,
              format: shape.format,
            },
          };
      } catch (error) {
        return { unresolved: (error as Error).message };
      }
    }
    const hubId = typeof values.dataset_name === 'string' ? values.dataset_name : undefined;
    if (hubId && !LOCAL_DATA.test(hubId))
      return this.hubDataset(hubId, typeof values.dataset_config === 'string' ? values.dataset_config : undefined);
    return { unresolved: this.options.l10n.t('the config names no dataset file that exists') };
  }

  /**
   * Whether a module not parsed yet (no reward in it) calls `name` as a helper: drafts are rare, so
   * the files that mention `name(` are parsed only then.
   */
  private calledFromUnparsed(name: string): boolean {
    const call = new RegExp(`\\b${name}\\s*\\(`);
    for (const [file, entry] of this.files) {
      if (entry.kind !== 'python' || entry.parsed || entry.skipped || this.tooLarge(entry)) continue;
      const text = this.readText(file, entry);
      if (text === undefined || !call.test(text)) continue;
      this.parse(file, entry, text);
      if (entry.summary?.helperCalls.has(name)) return true;
    }
    return false;
  }

  /**
   * A draft is not a reward TRL calls until a trainer or config passes it, so what would fail then is
   * a warning now (and an error once it is wired, where it is checked again).
   */
  private asDraft(reward: RewardFunction): RewardFunction {
    const note = this.options.l10n.t('No trainer or run config passes this function yet; once one does, this is an error.');
    return {
      ...reward,
      problems: reward.problems.map((p) => (p.severity === 'error' ? { ...p, severity: 'warning', message: `${p.message} ${note}` } : p)),
    };
  }

  private fromConfigEntry(resolution: Resolution, file: string, entry: ConfigRewardEntry, context: CheckContext): RewardFunction {
    const reference = { file, range: entry.range };
    const { l10n } = this.options;
    if (TRL_BUILTIN_REWARDS.has(entry.text)) {
      return this.external(
        entry.text,
        reference,
        'config',
        l10n.t("'{0}' is one of TRL's built-in rewards; it is not checked here.", entry.text),
      );
    }
    const modelDir = this.localFolder(file, entry.text);
    if (modelDir) {
      return {
        name: entry.text,
        kind: 'model',
        isAsync: false,
        origin: 'config',
        file,
        range: entry.range,
        references: [reference],
        problems: [],
        modelDir,
      };
    }
    const [modulePath, name] = splitRewardPath(entry.text);
    if (!modulePath || !name) {
      return {
        ...this.external(entry.text, reference, 'config'),
        problems: [
          {
            severity: 'error',
            code: Code.unresolved,
            file,
            range: entry.range,
            message: l10n.t(
              "'{0}' is neither a TRL built-in reward nor a dotted import path (my_module.my_reward), so trl grpo stops with ValueError before training. Write the module path and the function name.",
              entry.text,
            ),
          },
        ],
      };
    }
    const moduleFile = modulePath.endsWith('.py')
      ? this.findFileByPath(resolution, file, modulePath)
      : resolution.resolveModule(file, modulePath, 0);
    if (!moduleFile) {
      return this.external(
        entry.text,
        reference,
        'config',
        l10n.t("Module '{0}' is not in this workspace (an installed package?), so '{1}' is not checked here.", modulePath, name),
      );
    }
    const value = resolution.resolver.lookupInModule(moduleFile, name);
    if (value.kind === 'unknown') {
      return {
        ...this.external(entry.text, reference, 'config'),
        problems: [
          {
            severity: 'error',
            code: Code.unresolved,
            file,
            range: entry.range,
            message: l10n.t("'{0}' has no '{1}', so importing the reward fails before training starts. Check the name.", modulePath, name),
          },
        ],
      };
    }
    return this.toReward(resolution, value, name, 'config', context, reference) ?? this.external(entry.text, reference, 'config');
  }

  /** A reward model path (`models/rm`, `./rm`) as a folder next to `file` or under a root; a hub id is none. */
  private localFolder(file: string, text: string): string | undefined {
    if (!text || text.includes('::') || /\.py$/.test(text)) return undefined;
    const candidates = path.isAbsolute(text) ? [text] : [path.dirname(file), ...this.options.roots].map((dir) => path.resolve(dir, text));
    return candidates.find((dir) => {
      try {
        return fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory() ?? false;
      } catch {
        return false;
      }
    });
  }

  private findFileByPath(resolution: Resolution, configFile: string, relative: string): string | undefined {
    const candidates = [path.resolve(path.dirname(configFile), relative), ...this.options.roots.map((r) => path.resolve(r, relative))];
    const found = candidates.find((c) => this.files.get(c)?.kind === 'python');
    return resolution.note(found);
  }

  private external(name: string, reference: { file: string; range: Range }, origin: RewardOrigin, note?: string): RewardFunction {
    return {
      name,
      kind: 'external',
      isAsync: false,
      origin,
      file: reference.file,
      range: reference.range,
      references: [reference],
      problems: note ? [{ severity: 'info', code: Code.notChecked, message: note, file: reference.file, range: reference.range }] : [],
    };
  }

  private toReward(
    resolution: Resolution,
    value: Value,
    written: string,
    origin: RewardOrigin,
    context: CheckContext,
    reference?: { file: string; range: Range },
    kindOverride?: RewardKind,
  ): RewardFunction | undefined {
    const references = reference ? [reference] : [];
    const { l10n } = this.options;
    const refProblem = (message: string, code: string = Code.notCallable): Problem[] =>
      reference ? [{ severity: 'error', code, message, file: reference.file, range: reference.range }] : [];
    /** A class (or an instance without __call__) passed as a reward: listed at the class, with its problem. */
    const classReward = (value: { cls: ClassInfo; file: string }, message: string): RewardFunction => ({
      name: value.cls.name,
      kind: 'class',
      isAsync: false,
      origin,
      file: value.file,
      range: value.cls.nameRange,
      references,
      problems: refProblem(message),
    });
    switch (value.kind) {
      case 'string': {
        if (!reference) return undefined;
        const modelDir = this.localFolder(reference.file, value.value);
        return {
          name: value.value,
          kind: 'model',
          isAsync: false,
          origin,
          file: reference.file,
          range: reference.range,
          references,
          problems: [],
          ...(modelDir ? { modelDir } : {}),
        };
      }
      case 'function': {
        const kind = kindOverride ?? (value.fn.isLambda ? 'lambda' : 'function');
        const name = value.fn.isLambda ? (value.alias ?? '<lambda>') : value.fn.name;
        const reward = this.checked(value, value.file, name, kind, value.fn.nameRange, origin, references, context);
        const moduleLevel = !value.fn.parent && !value.fn.className && value.boundPositional === 0 && kind !== 'partial';
        const attr = value.fn.isLambda ? value.alias : value.fn.name;
        if (moduleLevel && attr && resolution.summaryOf(value.file)?.bindings.has(attr)) reward.handle = { file: value.file, attr };
        return reward;
      }
      case 'partial': {
        const reward = this.toReward(resolution, value.target, written, origin, context, reference, 'partial');
        if (reward && this.lacksName(resolution, written, context, reference))
          reward.problems.push(
            ...refProblem(
              `${l10n.t(
                'This TRL release reads every reward\'s __name__ when GRPOTrainer is created, and a functools.partial has none: GRPOTrainer(...) raises AttributeError: __name__ before training starts. Give it one (reward = partial(…), then reward.__name__ = "…"), wrap the call in a def, or use TRL 1.9.0 or later.',
              )} ${releaseNote(context.trl!, l10n)}`,
              Code.namelessReward,
            ),
          );
        return reward;
      }
      case 'factory-result': {
        const inner = this.toReward(resolution, value.inner, written, origin, context, reference, 'factory');
        if (inner && inner.name === '<lambda>') inner.name = value.factory.name;
        return inner;
      }
      case 'instance': {
        const call = resolution.resolver.findMethod(value.cls, value.file, '__call__');
        if (!call) {
          return classReward(
            value,
            l10n.t(
              'Instances of {0} are not callable: it defines no __call__, so GRPOTrainer raises TypeError. Add def __call__(self, completions, **kwargs).',
              value.cls.name,
            ),
          );
        }
        const target = { kind: 'function' as const, fn: call.fn, file: call.file, boundPositional: 1, boundKeywords: [] };
        const reward = this.checked(
          target,
          call.file,
          value.cls.name,
          'class',
          value.cls.nameRange,
          origin,
          references,
          context,
          value.file,
        );
        if (!value.cls.setsName && this.lacksName(resolution, written, context, reference))
          reward.problems.push(
            ...refProblem(
              `${l10n.t(
                'This TRL release reads every reward\'s __name__ when GRPOTrainer is created, and an instance of {0} has none: GRPOTrainer(...) raises AttributeError: __name__ before training starts. Add __name__ = "{0}" to the class body, or use TRL 1.9.0 or later.',
                value.cls.name,
              )} ${releaseNote(context.trl!, l10n)}`,
              Code.namelessReward,
            ),
          );
        const init = resolution.resolver.findMethod(value.cls, value.file, '__init__')?.fn;
        const needsArguments = init?.params
          .slice(1)
          .some((p) => !p.hasDefault && (p.kind === 'positional-or-keyword' || p.kind === 'positional-only' || p.kind === 'keyword-only'));
        if (!needsArguments && resolution.summaryOf(value.file)?.bindings.get(value.cls.name)?.type === 'class') {
          reward.handle = { file: value.file, attr: value.cls.name, instantiate: true };
        }
        return reward;
      }
      case 'class':
        return classReward(
          value,
          l10n.t(
            'This passes the class {0} itself; GRPOTrainer would call the constructor with the reward arguments. Pass an instance: {0}().',
            value.cls.name,
          ),
        );
      case 'external':
        return reference
          ? this.external(written, reference, origin, l10n.t("'{0}' is defined outside this workspace; it is not checked here.", written))
          : undefined;
      default:
        return reference
          ? this.external(written, reference, origin, l10n.t("'{0}' cannot be resolved statically; it is not checked here.", written))
          : undefined;
    }
  }

  /** Under a TRL before 1.9.0, a reward object passed without a `__name__` of its own. */
  private lacksName(resolution: Resolution, written: string, context: CheckContext, reference?: { file: string }): boolean {
    if (!reference || !context.trl || context.trl.acceptsNameless) return false;
    return !resolution.summaryOf(reference.file)?.namedByAssignment.has(written);
  }

  private checked(
    value: Extract<Value, { kind: 'function' }>,
    file: string,
    name: string,
    kind: RewardKind,
    range: Range,
    origin: RewardOrigin,
    references: { file: string; range: Range }[],
    context: CheckContext,
    definitionFile = file,
  ): RewardFunction {
    const target: CheckTarget = { fn: value.fn, file, boundPositional: value.boundPositional, boundKeywords: value.boundKeywords };
    return {
      name,
      kind,
      isAsync: value.fn.isAsync,
      origin,
      file: definitionFile,
      range: range ?? ZERO_RANGE,
      references,
      problems: checkCallable(target, context, this.options.l10n),
    };
  }
}

/**
 * `from unsloth import FastLanguageModel`, `import unsloth`, `from unsloth import PatchFastRL`: Unsloth
 * patches TRL's trainers. With `name`, only a `from unsloth… import name`.
 */
function importsFromUnsloth(summary: ModuleSummary, name?: string): boolean {
  for (const binding of summary.bindings.values()) {
    if (binding.type !== 'import-module' && binding.type !== 'import-name') continue;
    if (!/^unsloth(_zoo)?(\.|$)/.test(binding.module)) continue;
    if (name === undefined || (binding.type === 'import-name' && binding.name === name)) return true;
  }
  return false;
}

/** `pkg.mod.fn` or `path/to/file.py::fn` → [module, name]. */
export function splitRewardPath(text: string): [string | undefined, string | undefined] {
  if (text.includes('::')) {
    const [file, name] = text.split('::');
    return [file || undefined, name || undefined];
  }
  const dot = text.lastIndexOf('.');
  return dot > 0 ? [text.slice(0, dot), text.slice(dot + 1) || undefined] : [undefined, undefined];
}

/**
 * A function not wired into a trainer counts as a reward when its parameters say so: it takes
 * `completions` (the name TRL passes), or it is named like a reward and takes what TRL passes.
 * Ordinary helpers such as `extract_answer(completion: str) -> str` do not qualify, nor a function
 * the workspace calls with positional arguments (`accuracy(content, sol)` inside a reward), nor an
 * abstract method or stub. A `draft` is a first attempt that is not shaped like a reward yet
 * (`def qmark(completion):`): a module-level function of one completion that returns no text.
 * Passed to a trainer or named in a config, any function is checked.
 */
export function rewardShape(
  fn: FunctionInfo,
  summary: ModuleSummary,
  calledAsHelper: ReadonlySet<string> = new Set(),
): 'reward' | 'draft' | undefined {
  if (fn.isLambda || fn.name.startsWith('test_') || fn.isStub) return undefined;
  // Called with positional arguments by other code of the module (inside a reward): a helper.
  if (!fn.className && summary.helperCalls.has(fn.name)) return undefined;
  if (fn.className && fn.name !== '__call__') return undefined;
  if (fn.returnAnnotation && /^(str|bool|None|dict|Dict\[.*\]|dict\[.*\])$/.test(fn.returnAnnotation.text)) return undefined;
  const names = new Set(fn.params.map((p) => p.name));
  if (names.has('completions')) return 'reward';
  const ownerName = fn.className ?? fn.name;
  const namedLikeReward = /reward/i.test(ownerName) || (fn.className !== undefined && /scor|judge/i.test(ownerName));
  if (namedLikeReward) {
    if (fn.className && !summary.classes.some((c) => c.name === fn.className)) return undefined;
    const takesWhatTrlPasses =
      names.has('prompts') || names.has('completion') || fn.params.some((p) => p.kind === 'var-keyword' || p.kind === 'var-positional');
    return takesWhatTrlPasses ? 'reward' : undefined;
  }
  const draft =
    !fn.className &&
    !fn.parent &&
    fn.params[0]?.name === 'completion' &&
    !calledAsHelper.has(fn.name) &&
    fn.returns.length > 0 &&
    !fn.returns.every((r) => r.kind === 'str' || r.kind === 'dict' || r.kind === 'none');
  return draft ? 'draft' : undefined;
}

function locationKey(reward: RewardFunction): string {
  return `${reward.file}:${reward.range.start.line}:${reward.range.start.character}`;
}

function sameProblem(a: Problem, b: Problem): boolean {
  return (
    a.code === b.code &&
    a.file === b.file &&
    a.range.start.line === b.range.start.line &&
    a.range.start.character === b.range.start.character &&
    a.message === b.message
  );
}

function statSize(file: string): number | undefined {
  try {
    return fs.statSync(file).size;
  } catch {
    return undefined;
  }
}

/**
 * One file's resolution through the index: the modules it reads, each recorded as a dependency (when
 * one of them changes, the file's rewards are resolved again).
 */
class Resolution implements DatasetHost {
  readonly dependencies: Set<string>;
  readonly dataPaths = new Set<string>();
  readonly resolver: RewardResolver;

  constructor(
    private readonly index: RewardIndex,
    file: string,
  ) {
    this.dependencies = new Set([file]);
    this.resolver = new RewardResolver(this);
  }

  hubDataset(id: string, config: string | undefined): DatasetResolution {
    return this.index.hubDataset(id, config);
  }

  summaryOf(file: string): ModuleSummary | undefined {
    if (this.index.isPythonFile(file)) this.dependencies.add(file);
    return this.index.summaryOf(file);
  }

  resolveModule(fromFile: string, module: string, level: number): string | undefined {
    return this.note(this.index.resolveModule(fromFile, module, level));
  }

  resolveSubmodule(packageFile: string, name: string): string | undefined {
    return this.note(this.index.resolveSubmodule(packageFile, name));
  }

  noteData(file: string): void {
    this.dataPaths.add(file);
  }

  note(file: string | undefined): string | undefined {
    if (file) this.dependencies.add(file);
    return file;
  }
}
