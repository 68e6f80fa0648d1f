import * as path from 'node:path';
import type { Parser } from 'web-tree-sitter';
import { Code } from '../../discovery/core/contract';
import { RewardIndex } from '../../discovery/core/rewardIndex';
import { readDatasetShape, type DatasetShape } from '../../shared/datasetReader';
import { readRunConfig, searchDirs, trainingDataFiles, type RunConfigValues } from '../../shared/runConfig';
import type { PreflightIssue } from './preflight';
import type { Localizer, Problem } from '../../shared/vocabulary';

export interface DatasetCheckOptions {
  /** The workspace folder (where the runner runs) first. */
  roots: string[];
  parser: Parser;
  l10n: Localizer;
}

/**
 * Pre-flight of the run config's local dataset: readable, with the columns the run needs. A hub
 * dataset or a Parquet file is left to the runner (an info line says so).
 */
export function runConfigDatasetIssues(configFile: string, options: DatasetCheckOptions): PreflightIssue[] {
  let config: RunConfigValues;
  try {
    config = readRunConfig(configFile);
  } catch {
    return []; // The config check reports an unreadable config.
  }
  const [files, parquet] = partition(
    trainingDataFiles(config, searchDirs(options.roots[0], configFile)),
    (file) => !/\.parquet$/i.test(file),
  );
  if (files.length === 0 && parquet.length)
    return [{ severity: 'info', message: options.l10n.t('{0}: columns are checked when it loads', path.basename(parquet[0])) }];
  if (files.length === 0) {
    const named = config.dataset_name ?? (Array.isArray(config.datasets) ? 'datasets' : undefined);
    return named ? [{ severity: 'info', message: options.l10n.t('dataset {0}: columns are checked when it loads', String(named)) }] : [];
  }
  return files.flatMap((file): PreflightIssue[] => {
    try {
      const shape = readDatasetShape(file, config);
      if (!shape)
        return [
          {
            severity: 'info',
            message: options.l10n.t(
              '{0}: its first line is longer than the pre-flight reads; columns are checked when it loads',
              path.basename(file),
            ),
          },
        ];
      return datasetIssues({ ...options, configFile, shape });
    } catch (error) {
      return [{ severity: 'error' as const, message: (error as Error).message }];
    }
  });
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
      message: options.l10n.t(
        "{0} has no 'prompt' column (columns: {1}): rename one with column_mapping, e.g. column_mapping: {question: prompt}",
        path.basename(shape.file),
        listed,
      ),
    });
  }
  const index = new RewardIndex({
    roots: options.roots,
    parser: options.parser,
    l10n: options.l10n,
    columns: shape.columns.filter((c) => c !== 'prompt'),
    columnsName: path.basename(shape.file),
    format: shape.format,
    byShape: false,
    maxFileBytes: 4 << 20,
  });
  index.scan();
  index.update(configFile);
  const missing: Problem[] = index
    .report()
    .rewards.filter((r) => r.references.some((ref) => ref.file === configFile))
    .flatMap((r) => r.problems.filter((p) => p.code === Code.missingColumn && p.severity === 'error'));
  for (const problem of missing) {
    issues.push({ severity: 'error', message: `${path.basename(problem.file)}:${problem.range.start.line + 1}: ${problem.message}` });
  }
  return issues;
}

function partition<T>(items: T[], keep: (item: T) => boolean): [T[], T[]] {
  return [items.filter(keep), items.filter((item) => !keep(item))];
}
