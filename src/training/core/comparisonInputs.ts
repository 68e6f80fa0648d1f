import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  fromStartEvent,
  generationSettings,
  promptTransform,
  resolveLike,
  rewardSpecs,
  rewardWeights,
  searchDirs,
  trainingDataFiles,
  type GenerationSettings,
  type PromptTransform,
  type RunConfigValues,
} from '../../shared/runConfig';
import type { RunEvent, StartEvent } from './events';
import { listCheckpoints } from './runFolder';

/** A model a comparison can load: a checkpoint, or the run's final model. */
export interface CompareTarget {
  label: string;
  /** Model folder. */
  path: string;
}

/** What a run needs for a comparison, from its (latest) start event alone. */
export interface RunComparisonInputs extends PromptTransform {
  configFile: string;
  /** The run's configuration, flat as in its YAML. */
  config: RunConfigValues;
  /** The folders the runner looks relative paths up in: the cwd it ran in, then the config's folder. */
  searchDirs: string[];
  /** Resolved like the runner does (a local folder when one exists, else as written: a model id). */
  baseModel: string;
  /** Checkpoints, newest first, then the final model when the run saved one. */
  targets: CompareTarget[];
  /** Local dataset file when the config names one. */
  datasetFile?: string;
  rewardSpecs: string[];
  rewardWeights?: number[];
  maxCompletionLength?: number;
  /** How the run sampled (GRPOConfig's generation settings). */
  generation: GenerationSettings;
}

/**
 * A run's model, dataset and rewards, from its (latest) start event; `cwd` is where the runner
 * ran (the workspace folder for runs the extension started). Undefined without a start event.
 */
export function runComparisonInputs(runDir: string, events: RunEvent[], cwd: string): RunComparisonInputs | undefined {
  const start = [...events].reverse().find((e): e is StartEvent => e.event === 'start');
  if (!start?.config) return undefined;
  const configFile = typeof start.config_file === 'string' ? start.config_file : '';
  const dirs = searchDirs(cwd, configFile || path.join(cwd, 'config'));
  const config = fromStartEvent(start.config);
  const end = [...events].reverse().find((e) => e.event === 'end');
  const targets: CompareTarget[] = listCheckpoints(runDir).map(({ label, path }) => ({ label, path }));
  if (end?.event === 'end' && end.status === 'finished' && fs.existsSync(path.join(runDir, 'config.json'))) {
    targets.unshift({ label: path.basename(runDir), path: runDir });
  }
  return {
    configFile,
    config,
    searchDirs: dirs,
    baseModel: typeof config.model_name_or_path === 'string' ? resolveLike(config.model_name_or_path, dirs) : '',
    targets,
    datasetFile: trainingDataFiles(config, dirs).find((file) => !/\.parquet$/i.test(file)),
    ...promptTransform(config),
    rewardSpecs: rewardSpecs(config),
    rewardWeights: rewardWeights(config),
    maxCompletionLength: typeof config.max_completion_length === 'number' ? config.max_completion_length : undefined,
    generation: generationSettings(config),
  };
}
