import type { DatasetFormat, Problem, Range } from '../../shared/vocabulary';

export type RewardKind = 'function' | 'lambda' | 'class' | 'factory' | 'partial' | 'model' | 'external';

/** How a reward function was found. */
export type RewardOrigin = 'trainer' | 'config' | 'shape';

export interface RewardFunction {
  /** The name as the user wrote it (a callable class under its class name). */
  name: string;
  kind: RewardKind;
  isAsync: boolean;
  origin: RewardOrigin;
  file: string;
  /** Range of the name at the definition (or of the entry in a config). */
  range: Range;
  /** Where GRPOTrainer or a config references it, when it does. */
  references: { file: string; range: Range }[];
  problems: Problem[];
  /** How a Python process reaches the callable by importing its module, when it can. */
  handle?: RewardHandle;
  /** For a reward model given as a path: the local folder it names (TRL loads it with from_pretrained). */
  modelDir?: string;
  /** What the verdicts assume beyond the code, for the hover ("trained through Unsloth, checked for TRL 0.22.2"). */
  notes?: string[];
}

/** A module-level name of the defining file (`instantiate`: a class to call without arguments). */
export interface RewardHandle {
  file: string;
  attr: string;
  instantiate?: boolean;
}

/** What is known about the training data, which decides some verdicts. */
export interface DatasetContext {
  /** Columns declared by the user; `undefined` when unknown. */
  columns?: ReadonlySet<string>;
  format?: DatasetFormat;
  /** True when the format is known (declared by the user, or read from the dataset); false when only guessed from code. */
  formatDeclared?: boolean;
  /** Where `columns` came from, for messages: a data file, a Hub dataset in the cache, the declared columns. */
  name?: string;
  /** Why the trainer's dataset could not be read, when it could not. */
  unresolved?: string;
}
