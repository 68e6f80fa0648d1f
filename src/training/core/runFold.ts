import type { CompletionsEvent, EndEvent, EvalEvent, LogEvent, RunEvent, RunStatus, StartEvent, SummaryEvent } from './events';

/**
 * A run's events folded into what every view of a run shows: its sessions (the first start and
 * each resume), status, step, length, timing, latest reward, the log events that stand and the
 * latest completions. Fed event by event (live) or a whole history; the Runs view, the dashboard,
 * the report and the CLI's progress line all read a run through this. No Node or `vscode` import:
 * the dashboard page bundles it.
 */
export class RunFold {
  readonly sessions: StartEvent[] = [];
  status: RunStatus = 'running';
  step = 0;
  maxSteps?: number;
  /** When the latest session started, and at which step. */
  startedAt?: number;
  startStep = 0;
  /** Seconds the earlier sessions trained (a resumed run's elapsed time leaves out the pauses). */
  earlierSeconds = 0;
  /** Wall time of the latest log or end, seconds since the epoch. */
  lastEventAt?: number;
  /** The largest step any event names (a checkpoint or an end may come after the last log). */
  lastStep = 0;
  /** When the latest session ended; undefined while it runs. */
  endedAt?: number;
  end?: EndEvent;
  error?: string;
  /** The latest `reward` logged. */
  reward?: number;
  /** The latest session asked to stop and has not ended yet (its checkpoint is being saved). */
  stopRequested = false;
  /**
   * The log events that stand: a session resumed after a crash re-runs the steps after its
   * checkpoint, and those later logs replace the earlier session's.
   */
  readonly logs: LogEvent[] = [];
  latestCompletions?: CompletionsEvent;
  latestSummary?: SummaryEvent;
  latestEval?: EvalEvent;

  /** `keepLogs: false` for a reader that keeps its own copy of the metrics (the dashboard's charts). */
  constructor(
    events: Iterable<RunEvent> = [],
    private readonly options: { keepLogs?: boolean } = {},
  ) {
    for (const event of events) this.apply(event);
  }

  /** Folds one event in; returns the step after which earlier logs were superseded, when it did. */
  apply(event: RunEvent): { supersededAfter?: number } {
    if ('step' in event && typeof event.step === 'number' && event.step > this.lastStep) this.lastStep = event.step;
    switch (event.event) {
      case 'start':
        return this.startSession(event);
      case 'train_begin':
        if (typeof event.max_steps === 'number') this.maxSteps = event.max_steps;
        break;
      case 'log':
        if (this.options.keepLogs !== false) this.logs.push(event);
        this.step = Math.max(this.step, event.step);
        if (typeof event.metrics?.reward === 'number') this.reward = event.metrics.reward;
        this.lastEventAt = event.time ?? this.lastEventAt;
        break;
      case 'completions':
        if (Array.isArray(event.rows)) this.latestCompletions = event;
        break;
      case 'summary':
        this.latestSummary = event;
        break;
      case 'eval':
        this.latestEval = event;
        break;
      case 'stop_requested':
        this.stopRequested = true;
        break;
      case 'end':
        this.end = event;
        this.status = event.status;
        this.error = event.error;
        this.endedAt = event.time;
        this.lastEventAt = event.time ?? this.lastEventAt;
        this.stopRequested = false;
        break;
    }
    return {};
  }

  /** The checkpoint step a session resumed from, when it did. */
  static resumedStep(event: StartEvent): number | undefined {
    const step = event.resumed_from?.step;
    return typeof step === 'number' ? step : undefined;
  }

  private startSession(event: StartEvent): { supersededAfter?: number } {
    if (this.startedAt !== undefined) {
      this.earlierSeconds += Math.max(0, (this.endedAt ?? this.lastEventAt ?? this.startedAt) - this.startedAt);
    }
    this.sessions.push(event);
    this.startedAt = event.time;
    this.startStep = this.step;
    this.endedAt = undefined;
    if (typeof event.max_steps === 'number') this.maxSteps = event.max_steps;
    this.status = 'running';
    this.error = undefined;
    this.stopRequested = false;
    const resumed = RunFold.resumedStep(event);
    // Steps past the checkpoint were logged (kept here or not): the new session replaces them.
    if (resumed === undefined || this.step <= resumed) return {};
    const cut = this.logs.findIndex((log) => log.step > resumed);
    if (cut >= 0) this.logs.length = cut;
    return { supersededAfter: resumed };
  }
}
