/**
 * `<run dir>/events.jsonl`, written by python/grpo_studio_runner.py: one JSON object per line,
 * appended and flushed line by line, so a reader may meet a half-written last line (it waits for
 * the rest) but never a corrupted earlier one.
 */

export const EVENTS_FILE = 'events.jsonl';

/** Every event carries the wall time it was written, seconds since the epoch. */
interface Timed {
  time: number;
}

/** A session begins: the first run, or a resume. */
export interface StartEvent extends Timed {
  event: 'start';
  /** The run config, absolute. */
  config_file: string;
  /** The runner's own arguments. */
  argv: string[];
  /** The checkpoint this session loads, with its step; null for a fresh run. */
  resumed_from: { checkpoint: string; step: number | null; skipped?: string[] } | null;
  /** Null when epochs decide the length: `train_begin` has it then. */
  max_steps: number | null;
  /** The run's configuration as the runner resolved it: `script`, `training`, `model`, `datasets`, `launcher_only`. */
  config: Record<string, unknown>;
  versions: Record<string, string>;
  devices: Record<string, unknown>;
  pid: number;
}

/** The trainer is about to step: `max_steps` is exact here (epoch-based configs have none at start). */
export interface TrainBeginEvent extends Timed {
  event: 'train_begin';
  step: number;
  max_steps: number;
}

export interface LogEvent extends Timed {
  event: 'log';
  step: number;
  /** TRL's metric keys exactly as logged (`reward`, `rewards/<name>/mean`, `kl`, …). */
  metrics: Record<string, number>;
}

/** Trainer's closing numbers (`train_runtime`, …). */
export interface SummaryEvent extends Timed {
  event: 'summary';
  step: number;
  metrics: Record<string, number | null>;
}

/** Evaluation metrics (`eval_*`). */
export interface EvalEvent extends Timed {
  event: 'eval';
  step: number;
  metrics: Record<string, number | null>;
}

export type MetricsEvent = SummaryEvent | EvalEvent;

export interface CompletionRow {
  prompt: unknown;
  completion: unknown;
  rewards: Record<string, number | null>;
  advantage: number | null;
  /** What rewards sent through `log_extra(column, values)`, when any did. */
  extra?: Record<string, unknown>;
}

/** A sample of the latest generation batch. */
export interface CompletionsEvent extends Timed {
  event: 'completions';
  step: number;
  rows: CompletionRow[];
}

export interface CheckpointEvent extends Timed {
  event: 'checkpoint';
  step: number;
  path: string;
}

/** A stop was asked for (`reason`: the STOP file or a signal); the checkpoint is being saved. */
export interface StopRequestedEvent extends Timed {
  event: 'stop_requested';
  step: number;
  reason: string;
}

/** How a session ended. */
export type EndStatus = 'finished' | 'stopped' | 'failed';

/** A run is running until a session ends (or its runner is gone). */
export type RunStatus = 'running' | EndStatus;

export interface EndEvent extends Timed {
  event: 'end';
  status: EndStatus;
  step: number;
  /** The traceback, when it failed. */
  error?: string;
  /** Where the final model is, when it finished. */
  model_path?: string;
}

export type RunEvent =
  StartEvent | TrainBeginEvent | LogEvent | CompletionsEvent | SummaryEvent | EvalEvent | CheckpointEvent | StopRequestedEvent | EndEvent;

export type EventName = RunEvent['event'];

/**
 * The JSON type of every field of every event, as a table the compiler holds to the interfaces
 * above (a field added to one and not the other does not compile) and `eventProblems` checks
 * lines against; test/python runs the real runner and checks every line it wrote with it.
 */
type FieldType = 'number' | 'string' | 'boolean' | 'object' | 'array' | 'null';
type FieldSpec = `${FieldType}${'' | `|${FieldType}`}${'' | '?'}`;
type FieldTable<T> = { [K in Exclude<keyof T, 'event'>]-?: FieldSpec };
type EventTable = { [E in RunEvent as E['event']]: FieldTable<E> };

export const EVENT_FIELDS: EventTable = {
  start: {
    time: 'number',
    config_file: 'string',
    argv: 'array',
    resumed_from: 'object|null',
    max_steps: 'number|null',
    config: 'object',
    versions: 'object',
    devices: 'object',
    pid: 'number',
  },
  train_begin: { time: 'number', step: 'number', max_steps: 'number' },
  log: { time: 'number', step: 'number', metrics: 'object' },
  summary: { time: 'number', step: 'number', metrics: 'object' },
  eval: { time: 'number', step: 'number', metrics: 'object' },
  completions: { time: 'number', step: 'number', rows: 'array' },
  checkpoint: { time: 'number', step: 'number', path: 'string' },
  stop_requested: { time: 'number', step: 'number', reason: 'string' },
  end: { time: 'number', status: 'string', step: 'number', error: 'string?', model_path: 'string?' },
};

export const COMPLETION_ROW_FIELDS: FieldTable<CompletionRow> = {
  prompt: 'string|array',
  completion: 'string|array',
  rewards: 'object',
  advantage: 'number|null',
  extra: 'object?',
};

function jsonType(value: unknown): FieldType {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value as FieldType;
}

function fieldProblems(record: Record<string, unknown>, table: Record<string, FieldSpec>, where: string, strict: boolean): string[] {
  const problems: string[] = [];
  for (const [field, spec] of Object.entries(table)) {
    const optional = spec.endsWith('?') || !strict;
    const types = spec.replace('?', '').split('|');
    if (!(field in record)) {
      if (!optional) problems.push(`${where}: '${field}' is missing`);
    } else if (!types.includes(jsonType(record[field])))
      problems.push(`${where}: '${field}' is ${jsonType(record[field])}, expected ${types.join(' or ')}`);
  }
  if (!strict) return problems;
  for (const field of Object.keys(record))
    if (field !== 'event' && !(field in table)) problems.push(`${where}: '${field}' is not in the event's definition`);
  return problems;
}

/**
 * How a parsed line differs from the definition above (empty: it is a well-formed event). Not
 * `strict`, as readers take lines: fields may be missing (older runners, hand-made files) or extra
 * (newer runners), but a field that is there has its type.
 */
export function eventProblems(value: unknown, { strict = true } = {}): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return ['not a JSON object'];
  const record = value as Record<string, unknown>;
  const name = record.event as EventName;
  if (!Object.hasOwn(EVENT_FIELDS, name)) return [`unknown event ${JSON.stringify(record.event)}`];
  const problems = fieldProblems(record, EVENT_FIELDS[name], name, strict);
  if (name === 'completions' && Array.isArray(record.rows)) {
    record.rows.forEach((row, i) => {
      problems.push(
        ...(typeof row === 'object' && row !== null
          ? fieldProblems(row as Record<string, unknown>, COMPLETION_ROW_FIELDS, `completions.rows[${i}]`, strict)
          : [`completions.rows[${i}]: not an object`]),
      );
    });
  }
  return problems;
}

/**
 * Reads events from a growing file: feed it each new chunk of bytes; it returns the complete
 * events and keeps an unfinished last line for the next chunk. A line that is not a known event
 * (never expected) is skipped and counted.
 */
export class EventReader {
  private pending = '';
  private readonly decoder = new TextDecoder('utf-8');
  skipped = 0;

  push(chunk: Uint8Array): RunEvent[] {
    const text = this.pending + this.decoder.decode(chunk, { stream: true });
    const lines = text.split('\n');
    this.pending = lines.pop() ?? '';
    const events: RunEvent[] = [];
    for (const line of lines) {
      if (line.trim() === '') continue;
      const event = parseEventLine(line);
      if (event) events.push(event);
      else this.skipped++;
    }
    return events;
  }
}

export function parseEventLine(line: string): RunEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  // A line of the wrong shape (metrics that are not an object, a step that is a string) is skipped
  // and counted, never handed to the views to throw on.
  return eventProblems(value, { strict: false }).length === 0 ? (value as RunEvent) : undefined;
}
