import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseDocument } from 'yaml';
import type { Message } from './vocabulary';
import { grpoConfigField, NEWEST_KNOWN } from './trlReleases';

/**
 * What a run config means: the YAML `trl grpo --config` reads (TRL's script args, GRPOConfig,
 * ModelConfig and dataset mixture in one flat mapping), plus the runner's own fields. Every rule
 * here follows python/grpo_studio_runner.py, which is the source of truth: where it looks relative
 * paths up, which file it trains on, how it turns a dataset row into a prompt.
 */

/** Flat run-config fields (a YAML mapping, or a run's start event flattened by `fromStartEvent`). */
export type RunConfigValues = Record<string, unknown>;

/** Fields the runner adds to TRL's; plain `trl grpo` rejects them. */
export const RUNNER_FIELDS: ReadonlySet<string> = new Set(['column_mapping', 'chat_format', 'system_prompt']);

/** The extensions the runner loads as local files (its DATASET_BUILDERS). */
export const LOCAL_DATA = /\.(jsonl|json|csv|tsv|parquet)$/i;

/** Whether a YAML text is a run config: it names a model or a reward at the top level. */
export function looksLikeRunConfig(text: string): boolean {
  return /^(model_name_or_path|reward_funcs|reward_model_name_or_path)\s*:/m.test(text);
}

/** A run config's values; throws with the file name and the first YAML error when it does not parse. */
export function readRunConfig(file: string): RunConfigValues {
  const doc = parseDocument(fs.readFileSync(file, 'utf8'));
  if (doc.errors.length) throw new Error(`${path.basename(file)} is not valid YAML: ${doc.errors[0].message.split('\n')[0]}`);
  const values = doc.toJS() as unknown;
  return isRecord(values) ? values : {};
}

/** The runner's start event keeps the four dataclasses apart; this makes them one flat mapping again. */
export function fromStartEvent(config: Record<string, unknown> | undefined): RunConfigValues {
  if (!config) return {};
  const part = (key: string) => (isRecord(config[key]) ? (config[key] as Record<string, unknown>) : {});
  const mixture = part('datasets');
  return {
    ...part('model'),
    ...part('training'),
    ...part('script'),
    ...(Array.isArray(mixture.datasets) ? { datasets: mixture.datasets } : {}),
  };
}

/** The sampling settings GRPOTrainer generates with, from GRPOConfig's fields. */
export interface GenerationSettings {
  temperature: number;
  topP: number;
  /** 0: no top-k filtering. */
  topK: number;
  minP?: number;
  repetitionPenalty: number;
}

/** What a GRPO step samples: how many completions per prompt, how long, from which seed, and how. */
export interface GrpoSampling extends GenerationSettings {
  numGenerations: number;
  maxCompletionLength: number;
  seed: number;
}

const SAMPLING_FIELDS: Record<string, keyof GrpoSampling> = {
  num_generations: 'numGenerations',
  max_completion_length: 'maxCompletionLength',
  seed: 'seed',
  temperature: 'temperature',
  top_p: 'topP',
  top_k: 'topK',
  min_p: 'minP',
  repetition_penalty: 'repetitionPenalty',
};

/**
 * What a release without the field samples with: top_p/top_k/repetition_penalty came in TRL 0.16;
 * before, GRPOTrainer built its GenerationConfig without them, so transformers' defaults applied.
 */
const WITHOUT_THE_FIELD: GrpoSampling = {
  numGenerations: 8,
  maxCompletionLength: 256,
  seed: 42, // TrainingArguments' default
  temperature: 1,
  topP: 1,
  topK: 50,
  repetitionPenalty: 1,
};

/** GRPOConfig's defaults for those fields in TRL `version` (they change: max_completion_length 256 → 512, temperature 0.9 → 1). */
function samplingDefaults(version: string): GrpoSampling {
  const defaults = { ...WITHOUT_THE_FIELD };
  for (const [field, key] of Object.entries(SAMPLING_FIELDS)) {
    const known = grpoConfigField(field, version);
    if (known?.state !== 'present') continue;
    if (typeof known.default === 'number') defaults[key] = known.default;
    else if (known.default === null && key === 'topK') defaults.topK = 0; // top_k=None: no top-k filtering
  }
  return defaults;
}

/** The sampling fields a run config sets itself; those it leaves to GRPOConfig's defaults are absent. */
export function samplingFieldsSet(config: RunConfigValues): Partial<GrpoSampling> {
  const set: Partial<GrpoSampling> = {};
  for (const [field, key] of Object.entries(SAMPLING_FIELDS)) if (typeof config[field] === 'number') set[key] = config[field] as number;
  return set;
}

/** A run config's sampling under TRL `version`, that release's GRPOConfig defaults where the config sets none. */
export function grpoSampling(config: RunConfigValues, version = NEWEST_KNOWN): GrpoSampling {
  return { ...samplingDefaults(version), ...samplingFieldsSet(config) };
}

/** A run config's generation settings under TRL `version`, its GRPOConfig defaults where the config sets none. */
export function generationSettings(config: RunConfigValues, version = NEWEST_KNOWN): GenerationSettings {
  const { temperature, topP, topK, minP, repetitionPenalty } = grpoSampling(config, version);
  return { temperature, topP, topK, minP, repetitionPenalty };
}

/** Where the runner looks relative paths up: the folder it runs in, then the config's own folder. */
export function searchDirs(cwd: string, configFile: string): string[] {
  return [...new Set([cwd, path.dirname(configFile)])];
}

/** A relative path that exists in one of `dirs` (in order) is taken from there; otherwise it stays as written. */
export function resolveLike(value: string, dirs: string[]): string {
  if (path.isAbsolute(value)) return value;
  for (const dir of dirs) {
    const candidate = path.join(dir, value);
    if (fs.existsSync(candidate)) return candidate;
  }
  return value;
}

/** A data file the config names, where it was named, and where the runner will find it (if anywhere). */
export interface NamedDataFile {
  /** The config key it came from (`dataset_name`, `datasets[0].data_files`, …). */
  key: string;
  value: string;
  /** The existing file, or undefined when it is in none of the search folders. */
  resolved?: string;
  /** Whether the run trains on it (the train split), not only names it (a test split). */
  train: boolean;
}

/**
 * Every local data file a config names: `dataset_name` as a path, and the `path` / `data_files`
 * (a string, a list, or a split → files mapping) of each `datasets` mixture entry. A name without a
 * data-file extension is a hub id and not listed.
 */
export function namedDataFiles(values: RunConfigValues, dirs: string[]): NamedDataFile[] {
  const named: NamedDataFile[] = [];
  const add = (key: string, value: unknown, train = true) => {
    if (typeof value !== 'string' || !LOCAL_DATA.test(value)) return;
    const found = resolveLike(value, dirs);
    named.push({ key, value, train, resolved: path.isAbsolute(found) && isFile(found) ? found : undefined });
  };
  add('dataset_name', values.dataset_name);
  const mixture = Array.isArray(values.datasets) ? values.datasets : [];
  mixture.forEach((entry, i) => {
    if (!isRecord(entry)) return;
    const where = `datasets[${i}]`;
    add(`${where}.path`, entry.path);
    const files = entry.data_files;
    const split = typeof entry.split === 'string' ? entry.split : 'train';
    if (typeof files === 'string') add(`${where}.data_files`, files);
    else if (Array.isArray(files)) files.forEach((file, k) => add(`${where}.data_files[${k}]`, file));
    else if (isRecord(files)) {
      for (const [name, value] of Object.entries(files)) {
        const list = Array.isArray(value) ? value : [value];
        list.forEach((file, k) => add(`${where}.data_files.${name}${Array.isArray(value) ? `[${k}]` : ''}`, file, name === split));
      }
    }
  });
  return named;
}

/** The local files the run trains on (the train split's), in the order the config names them. */
export function trainingDataFiles(values: RunConfigValues, dirs: string[]): string[] {
  return namedDataFiles(values, dirs).flatMap((f) => (f.train && f.resolved ? [f.resolved] : []));
}

/** How the runner turns a dataset row into what GRPOTrainer gets: columns renamed, then chat prompts. */
export interface PromptTransform {
  /** Old column name → new (`column_mapping`). */
  columnMapping: Record<string, string>;
  /** Prompts become chat messages (`chat_format`, or a `system_prompt`). */
  chat: boolean;
  systemPrompt?: string;
}

export function promptTransform(values: RunConfigValues): PromptTransform {
  const systemPrompt = typeof values.system_prompt === 'string' ? values.system_prompt : undefined;
  return {
    columnMapping: stringMapping(values.column_mapping),
    chat: Boolean(values.chat_format) || systemPrompt !== undefined,
    systemPrompt,
  };
}

/** One row as the runner's prepare_prompts leaves it. */
export function applyPromptTransform(row: Record<string, unknown>, transform: PromptTransform): Record<string, unknown> {
  const renamed = Object.fromEntries(Object.entries(row).map(([k, v]) => [transform.columnMapping[k] ?? k, v]));
  if (transform.chat && 'prompt' in renamed) {
    const prompt = renamed.prompt;
    const messages: Message[] = typeof prompt === 'string' ? [{ role: 'user', content: prompt }] : [...((prompt as Message[]) ?? [])];
    if (transform.systemPrompt && messages[0]?.role !== 'system') messages.unshift({ role: 'system', content: transform.systemPrompt });
    renamed.prompt = messages;
  }
  return renamed;
}

/** The name a column of the file gets after `column_mapping`. */
export function mappedColumn(column: string, transform: PromptTransform): string {
  return transform.columnMapping[column] ?? column;
}

/** The `reward_funcs` entries as written (names, dotted paths, `file.py::name`, model paths). */
export function rewardSpecs(values: RunConfigValues): string[] {
  const entries = Array.isArray(values.reward_funcs) ? values.reward_funcs : [values.reward_funcs];
  return entries.filter((s): s is string => typeof s === 'string');
}

export function rewardWeights(values: RunConfigValues): number[] | undefined {
  return Array.isArray(values.reward_weights) ? values.reward_weights.filter((w): w is number => typeof w === 'number') : undefined;
}

function stringMapping(value: unknown): Record<string, string> {
  if (typeof value === 'string') {
    try {
      return stringMapping(JSON.parse(value));
    } catch {
      return {};
    }
  }
  if (!isRecord(value)) return {};
  return Object.fromEntries(Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return Boolean(value) && typeof value === 'object' && !Array.isArray(value);
}

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}
