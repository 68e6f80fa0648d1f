import type { CompletionsEvent, RunEvent, RunInfo, RunStatusReport } from '../../src/training/core/dashboardProtocol';
import { RunFold } from '../../src/training/core/runFold';

/** One metric of one run, append-only: the log rows it appeared in and its values. */
export class Series {
  /** Index into the run's `steps` / `times`. */
  readonly rows: number[] = [];
  readonly values: number[] = [];
}

/** What a batch of events changed, for the views to update only that. */
export interface Changes {
  /** Metric keys with new points. */
  metrics: Set<string>;
  /** Metric keys that lost points: a resumed session supersedes the steps logged after its checkpoint. */
  superseded: Set<string>;
  completions: CompletionsEvent[];
}

/**
 * Everything the page knows about one run, built from its events (`summary`, the trainer's
 * closing numbers, and `checkpoint` are not charted).
 */
export class RunData {
  /** Step and wall time (seconds since the epoch, NaN when unknown) of each log row. */
  readonly steps: number[] = [];
  readonly times: number[] = [];
  readonly series = new Map<string, Series>();
  startTime = NaN;
  /** The run config of its first start event (`training`, `model`, `datasets`, …). */
  config?: Record<string, unknown>;
  /** Status, length, stop and error from the run's events (training/core/runFold.ts). */
  private readonly fold = new RunFold([], { keepLogs: false });
  private reportedStep: number | undefined;
  private reportedMaxSteps: number | undefined;
  private reportedError: string | undefined;
  /** Seconds left, as the host estimates them (the Runs view's ETA). */
  eta: number | undefined;

  constructor(public info: RunInfo) {}

  /** The latest step: the host's report, or the last logged one. */
  get step(): number | undefined {
    return this.reportedStep ?? this.steps.at(-1);
  }

  get maxSteps(): number | undefined {
    return this.reportedMaxSteps ?? this.fold.maxSteps;
  }

  get stopRequested(): boolean {
    return this.fold.stopRequested;
  }

  get error(): string | undefined {
    return this.fold.error ?? this.reportedError;
  }

  setStatus({ status, step, maxSteps, error, eta }: RunStatusReport): void {
    this.info = { ...this.info, status };
    this.reportedError = status === 'failed' ? error : undefined;
    this.reportedStep = step ?? this.reportedStep;
    this.reportedMaxSteps = maxSteps ?? this.reportedMaxSteps;
    this.eta = status === 'running' ? eta : undefined;
  }

  /** Appends `events` to the run; the completions are returned rather than kept (the table keeps a few). */
  append(events: readonly RunEvent[]): Changes {
    const changes: Changes = { metrics: new Set(), superseded: new Set(), completions: [] };
    for (const event of events) {
      const { supersededAfter } = this.fold.apply(event);
      if (event.event === 'end') this.info = { ...this.info, status: event.status };
      if (event.event === 'log') this.addLog(event.step, event.time, event.metrics, changes.metrics);
      // `eval_*` metrics are charted like the others.
      else if (event.event === 'eval') this.addLog(event.step, undefined, event.metrics, changes.metrics);
      else if (event.event === 'completions' && Array.isArray(event.rows)) changes.completions.push(event);
      // A resumed run starts again in the same log: relative time still counts from the first start.
      else if (event.event === 'start') {
        if (typeof event.time === 'number' && Number.isNaN(this.startTime)) this.startTime = event.time;
        if (!this.config && event.config && typeof event.config === 'object') this.config = event.config;
      }
      this.dropStepsAfter(supersededAfter, changes.superseded);
    }
    return changes;
  }

  /** After a crash, a resume replays the steps after its checkpoint: the earlier rows of those steps go. */
  private dropStepsAfter(step: number | undefined, changed: Set<string>): void {
    if (step === undefined) return;
    const cut = this.steps.findIndex((s) => s > step);
    if (cut < 0) return;
    this.steps.length = cut;
    this.times.length = cut;
    for (const [key, series] of this.series) {
      let kept = series.rows.length;
      while (kept > 0 && series.rows[kept - 1] >= cut) kept--;
      if (kept === series.rows.length) continue;
      series.rows.length = kept;
      series.values.length = kept;
      changed.add(key);
    }
  }

  private addLog(step: number, time: number | undefined, metrics: Record<string, number | null>, changed: Set<string>): void {
    if (typeof step !== 'number' || typeof metrics !== 'object' || metrics === null) return;
    const row = this.steps.length;
    const wall = typeof time === 'number' ? time : (this.times.at(-1) ?? NaN);
    this.steps.push(step);
    this.times.push(wall);
    if (Number.isNaN(this.startTime)) this.startTime = wall;
    for (const key in metrics) {
      const value = metrics[key];
      if (typeof value !== 'number' || !Number.isFinite(value)) continue;
      let series = this.series.get(key);
      if (!series) this.series.set(key, (series = new Series()));
      series.rows.push(row);
      series.values.push(value);
      changed.add(key);
    }
  }
}
