import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runPythonScript } from '../../shared/pythonProcess';

/**
 * ONNX exports of local transformers models, made by python/grpo_studio_export_onnx.py for the
 * in-editor sampler, kept in a cache folder keyed by the model's files: a model that is saved
 * again (new weights, a changed tokenizer) gets a new export, an unchanged one reuses its own.
 */

/** Written by the exporter last, so its presence marks a finished export. */
export const EXPORT_MANIFEST = 'grpo-studio-export.json';
/** Bump when the exporter's graph changes, so earlier exports are made again. */
const RECIPE = 'decoder-with-past/opset17/1';

export interface CachedExport {
  dir: string;
  /** The model folder it was exported from. */
  source: string;
  /** Whether the source still has the files it was exported from. */
  fresh: boolean;
}

/** The cache key of a model folder: its top-level files' names, sizes and modification times. */
export function exportKey(modelDir: string): string {
  const hash = createHash('sha256').update(RECIPE);
  const entries = fs
    .readdirSync(modelDir, { withFileTypes: true })
    .filter((entry) => entry.isFile() && !entry.name.startsWith('.'))
    .map((entry) => entry.name)
    .sort();
  for (const name of entries) {
    const stat = fs.statSync(path.join(modelDir, name));
    hash.update(`\0${name}\0${stat.size}\0${Math.round(stat.mtimeMs)}`);
  }
  return hash.digest('hex').slice(0, 16);
}

/** Where the export of `modelDir` goes (or is) in `cacheRoot`. */
export function exportDir(cacheRoot: string, modelDir: string): string {
  const name = path.basename(path.resolve(modelDir)).replace(/[^\w.-]+/g, '_');
  return path.join(cacheRoot, `${name}-${exportKey(modelDir)}`);
}

/** The finished export of `modelDir` for its current files, if there is one. */
export function findExport(cacheRoot: string, modelDir: string): string | undefined {
  if (!isTransformersModel(modelDir)) return undefined;
  const dir = exportDir(cacheRoot, modelDir);
  return fs.existsSync(path.join(dir, EXPORT_MANIFEST)) ? dir : undefined;
}

/** Every finished export in the cache, newest first, each with whether its source is unchanged. */
export function listExports(cacheRoot: string): CachedExport[] {
  if (!fs.existsSync(cacheRoot)) return [];
  const found: (CachedExport & { time: number })[] = [];
  for (const entry of fs.readdirSync(cacheRoot, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    const dir = path.join(cacheRoot, entry.name);
    const manifest = path.join(dir, EXPORT_MANIFEST);
    try {
      const { source } = JSON.parse(fs.readFileSync(manifest, 'utf8')) as { source?: string };
      if (typeof source !== 'string') continue;
      const fresh = isTransformersModel(source) && exportDir(cacheRoot, source) === dir;
      found.push({ dir, source, fresh, time: fs.statSync(manifest).mtimeMs });
    } catch {
      continue; // Not an export of ours, or one being written.
    }
  }
  return found.sort((a, b) => b.time - a.time).map(({ time: _time, ...rest }) => rest);
}

/** A folder transformers can load a model from: config.json and weights. */
export function isTransformersModel(dir: string): boolean {
  try {
    return (
      fs.existsSync(path.join(dir, 'config.json')) &&
      fs.readdirSync(dir).some((name) => /\.(safetensors|bin)$/.test(name) && !name.startsWith('training_args'))
    );
  } catch {
    return false;
  }
}

export interface ExportRun {
  python: string;
  /** python/grpo_studio_export_onnx.py */
  script: string;
  model: string;
  cacheRoot: string;
  cwd: string;
  /** The exporter's progress lines ("loading …", "exporting …", "checking …"). */
  onProgress?: (line: string) => void;
  onOutput?: (text: string) => void;
  signal?: AbortSignal;
}

/** Exports `model` into the cache (the exporter moves it into place only when complete); its folder. */
export async function exportModel(run: ExportRun): Promise<string> {
  const out = exportDir(run.cacheRoot, run.model);
  await runPythonScript({
    python: run.python,
    args: [run.script, '--model', run.model, '--out', out],
    cwd: run.cwd,
    signal: run.signal,
    onOutput: run.onOutput,
    onLine: (line) => {
      if (/^(loading|exporting|checking) /.test(line)) run.onProgress?.(line);
    },
  });
  return out;
}
