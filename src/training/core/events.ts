/**
 * `<run dir>/events.jsonl`, written by python/grpo_studio_runner.py: one JSON object per line,
 * appended and flushed line by line, so a reader may meet a half-written last line (it waits for
 * the rest) but never a corrupted earlier one.
 */

export interface StartEvent {
  event: 'start';
  time?: number;
  /** The run's configuration as the runner resolved it (script, GRPOConfig and model args). */
  config?: Record<string, unknown>;
  versions?: Record<string, string>;
  devices?: unknown;
  max_steps?: number;
  [key: string]: unknown;
}

/** The trainer is about to step: `max_steps` is exact here (epoch-based configs have none at start). */
export interface TrainBeginEvent {
  event: 'train_begin';
  step: number;
  max_steps: number;
}

/** Trainer's closing numbers (`train_runtime`, …) or evaluation metrics (`eval_*`). */
export interface MetricsEvent {
  event: 'summary' | 'eval';
  step: number;
  metrics: Record<string, number | null>;
}

export interface LogEvent {
  event: 'log';
  step: number;
  time?: number;
  /** TRL's metric keys exactly as logged (`reward`, `rewards/<name>/mean`, `kl`, …). */
  metrics: Record<string, number>;
}

export interface CompletionRow {
  prompt: unknown;
  completion: unknown;
  rewards: Record<string, number | null>;
  advantage: number | null;
}

export interface CompletionsEvent {
  event: 'completions';
  step: number;
  rows: CompletionRow[];
}

export interface CheckpointEvent {
  event: 'checkpoint';
  step: number;
  path: string;
}

export interface StopRequestedEvent {
  event: 'stop_requested';
}

export type RunStatus = 'finished' | 'stopped' | 'failed';

export interface EndEvent {
  event: 'end';
  status: RunStatus;
  error?: string;
  time?: number;
}

export type RunEvent =
  | StartEvent
  | TrainBeginEvent
  | LogEvent
  | CompletionsEvent
  | MetricsEvent
  | CheckpointEvent
  | StopRequestedEvent
  | EndEvent;

/** The checkpoint step a session resumed from, when it did. */
export function resumedStep(event: StartEvent): number | undefined {
  const step = (event.resumed_from as { step?: unknown } | null | undefined)?.step;
  return typeof step === 'number' ? step : undefined;
}

/**
 * The log events that stand: a session resumed after a crash re-runs the steps after its
 * checkpoint, and those later logs replace the earlier session's.
 */
export function standingLogs(events: readonly RunEvent[]): LogEvent[] {
  const logs: LogEvent[] = [];
  for (const event of events) {
    if (event.event === 'log') logs.push(event);
    else if (event.event === 'start') {
      const step = resumedStep(event);
      if (step !== undefined) {
        const cut = logs.findIndex((log) => log.step > step);
        if (cut >= 0) logs.length = cut;
      }
    }
  }
  return logs;
}

const KNOWN = new Set(['start', 'train_begin', 'log', 'completions', 'summary', 'eval', 'checkpoint', 'stop_requested', 'end']);

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
  if (typeof value !== 'object' || value === null || !KNOWN.has((value as { event?: string }).event ?? '')) return undefined;
  return value as RunEvent;
}
