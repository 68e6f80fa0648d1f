/**
 * The words every capability speaks: positions and problems in source files, the localizer the
 * core's messages go through, prompts and completions in TRL's two dataset formats, and the reward
 * callables a Python process can reach. No `vscode` import: the CLI and the pages use these too.
 */

/** Zero-based line and UTF-16 column, the same convention as VS Code positions. */
export interface Position {
  line: number;
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

export type Severity = 'error' | 'warning' | 'info';

export interface TextEdit {
  range: Range;
  newText: string;
}

export interface QuickFix {
  title: string;
  edits: TextEdit[];
}

export interface Problem {
  severity: Severity;
  /** Stable identifier, e.g. `GRPO101`; documented in the README. */
  code: string;
  message: string;
  file: string;
  range: Range;
  fix?: QuickFix;
}

export type Translate = (message: string, ...args: Array<string | number>) => string;

/** The subset of `vscode.l10n` the core uses, so the CLI can supply its own. */
export interface Localizer {
  t: Translate;
}

/** English as written: `{0}`, `{1}`… filled in, nothing translated. */
export const untranslated: Localizer = {
  t: (message, ...args) => message.replace(/\{(\d+)\}/g, (_, i) => String(args[Number(i)])),
};

/** TRL's dataset formats: `prompt` a string, or a list of chat messages. */
export type DatasetFormat = 'standard' | 'conversational';

/** A chat message, as in TRL's conversational format. */
export interface Message {
  role: string;
  content: string;
}

export type PromptValue = string | Message[];

export function isMessage(value: unknown): value is Message {
  return Boolean(value) && typeof (value as Message).role === 'string' && typeof (value as Message).content === 'string';
}

/** A string, or a list of `{"role", "content"}` messages. */
export function isPromptValue(value: unknown): value is PromptValue {
  return typeof value === 'string' || (Array.isArray(value) && value.every(isMessage));
}

/** The text a person reads: a string as is, a message list as its contents. */
export function displayText(value: PromptValue): string {
  return typeof value === 'string' ? value : value.map((m) => m.content).join('\n');
}

/** A reward callable a Python process can reach: a module-level name of a file in the workspace. */
export interface RewardRef {
  /** Display name (as in the discovery report). */
  name: string;
  /** Absolute path of the module file. */
  file: string;
  /** Module-level attribute holding the callable (a function, an instance, a factory's result). */
  attr: string;
  /** When `attr` names a class, the worker instantiates it without arguments. */
  instantiate?: boolean;
}

/** One completion to score, as TRL hands it to a reward. */
export interface ScoreSample {
  prompt: PromptValue;
  completion: PromptValue;
  /** Dataset columns (everything but prompt/completion), passed as keyword lists like TRL does. */
  columns: Record<string, unknown>;
  /** The token ids the policy sampled; without them (on any sample) the worker tokenizes the completions. */
  completionIds?: number[];
}
