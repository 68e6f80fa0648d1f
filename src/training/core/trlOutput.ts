import * as fs from 'node:fs';
import * as path from 'node:path';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import { EVENTS_FILE, type CompletionRow, type RunEvent } from './events';
import { readTensorBoard, tensorBoardFiles } from './tensorboard';
import {
  parseTrackioRunId,
  readTrackioRun,
  TRACKIO_RUN_SEPARATOR,
  trackioLastWrite,
  trackioRunOf,
  type TrackioRun,
  type TrackioRunInfo,
} from './trackio';

/**
 * A TRL output folder made by anything (`trl grpo`, `accelerate launch train.py`, a notebook),
 * read as a run: metrics from `trainer_state.json` (the newest of the folder's and its
 * checkpoints'), completions with each reward function's value and the advantage from
 * `completions/completions_<step>.parquet` (GRPOTrainer writes them with `log_completions`), every
 * logged step's metrics, wall times and the training arguments from TensorBoard event files
 * (`report_to: tensorboard`), framework versions from the model card; what is missing, said plainly.
 */

export const TRAINER_STATE = 'trainer_state.json';
const COMPLETIONS_DIR = 'completions';
/** As many rows of each logged batch as the runner copies into a completions event. */
const COMPLETION_ROWS = 16;
/** Trainer's closing numbers, logged with the last step. */
const SUMMARY_KEYS = new Set(['train_runtime', 'train_samples_per_second', 'train_steps_per_second', 'total_flos', 'train_loss']);
/** A folder written to this recently may still be training. */
const LIVE_SECONDS = 120;

export interface TrlOutput {
  events: RunEvent[];
  /** What the folder holds and lacks, each with what to do about it. */
  notes: string[];
  /** Written to in the last two minutes: a run that may still be going. */
  live: boolean;
  /** When anything in it was last written, seconds since the epoch. */
  lastWrite: number;
  /** The Trackio project database the metrics also came from. */
  trackioDb?: string;
}

interface TrainerState {
  global_step?: number;
  max_steps?: number;
  log_history?: Record<string, unknown>[];
}

/** A run made outside GRPO Studio: a TRL output folder, or a Trackio project's run (`project.db::run`). */
export function isExternalRun(id: string): boolean {
  return parseTrackioRunId(id) !== undefined || isTrlOutputFolder(id);
}

/** Whether `dir` looks like a TRL output folder (and is not a GRPO Studio run folder). */
export function isTrlOutputFolder(dir: string): boolean {
  if (fs.existsSync(path.join(dir, EVENTS_FILE))) return false;
  return stateFiles(dir).length > 0 || completionFiles(dir).length > 0 || tensorBoardFiles(dir).length > 0;
}

/** The trainer_state.json files of the folder and its checkpoints, newest (largest step) last. */
function stateFiles(dir: string): { file: string; step: number; mtime: number }[] {
  const found: { file: string; step: number; mtime: number }[] = [];
  const candidates = [dir, ...checkpointDirs(dir).map((c) => c.dir)];
  for (const folder of candidates) {
    const file = path.join(folder, TRAINER_STATE);
    try {
      const stat = fs.statSync(file);
      found.push({ file, step: checkpointStep(folder) ?? Number.MAX_SAFE_INTEGER, mtime: stat.mtimeMs / 1000 });
    } catch {}
  }
  return found.sort((a, b) => a.step - b.step || a.mtime - b.mtime);
}

function checkpointStep(folder: string): number | undefined {
  const match = /^checkpoint-(\d+)$/.exec(path.basename(folder));
  return match ? Number(match[1]) : undefined;
}

function checkpointDirs(dir: string): { dir: string; step: number }[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .map((name) => ({ dir: path.join(dir, name), step: checkpointStep(name) }))
    .filter((c): c is { dir: string; step: number } => c.step !== undefined && fs.statSync(c.dir).isDirectory())
    .sort((a, b) => a.step - b.step);
}

function completionFiles(dir: string): { file: string; step: number }[] {
  let names: string[];
  try {
    names = fs.readdirSync(path.join(dir, COMPLETIONS_DIR));
  } catch {
    return [];
  }
  return names
    .map((name) => ({ file: path.join(dir, COMPLETIONS_DIR, name), step: Number(/^completions_(\d+)\.parquet$/.exec(name)?.[1] ?? NaN) }))
    .filter((c) => Number.isFinite(c.step))
    .sort((a, b) => a.step - b.step);
}

/** The newest trainer state that parses (a checkpoint being written may be cut short). */
function newestState(dir: string, notes: string[]): { state: TrainerState; file: string; mtime: number } | undefined {
  const files = stateFiles(dir);
  for (const candidate of [...files].reverse()) {
    try {
      const state = JSON.parse(fs.readFileSync(candidate.file, 'utf8')) as TrainerState;
      if (state && Array.isArray(state.log_history)) return { state, file: candidate.file, mtime: candidate.mtime };
      notes.push(`${path.relative(dir, candidate.file)} has no log_history: skipped`);
    } catch (error) {
      notes.push(`${path.relative(dir, candidate.file)} cannot be read (${(error as Error).message}): skipped`);
    }
  }
  return undefined;
}

const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/** Framework versions from the model card TRL writes (`- TRL: 1.16.0`). */
function versionsFromModelCard(dir: string): Record<string, string> {
  const versions: Record<string, string> = {};
  let text: string;
  try {
    text = fs.readFileSync(path.join(dir, 'README.md'), 'utf8');
  } catch {
    return versions;
  }
  const section = text.split(/^### Framework versions\s*$/m)[1] ?? '';
  for (const match of section.matchAll(/^- (\w[\w ]*): (\S+)\s*$/gm)) versions[match[1].toLowerCase()] = match[2];
  return versions;
}

/** Each logged step's metrics with its wall time, from a tracker (TensorBoard, Trackio). */
type LoggedSteps = Map<number, { time: number; metrics: Record<string, number> }>;

/** What a run's files hold, wherever they came from. */
interface RunSources {
  state?: { state: TrainerState; mtime: number };
  logged: LoggedSteps;
  args?: Record<string, unknown>;
  completions: { step: number; time: number; rows: () => Promise<Record<string, unknown>[]>; name: string }[];
  checkpoints: { step: number; time: number; path: string }[];
  config: Record<string, unknown>;
  versions: Record<string, string>;
  lastWrite: number;
  notes: string[];
}

/** The folder as the events a GRPO Studio run would have written, with its Trackio run when one logged it. */
export async function readTrlOutput(dir: string): Promise<TrlOutput> {
  const notes: string[] = [];
  const newest = newestState(dir, notes);
  const parquet = completionFiles(dir);
  const tensorboard = readTensorBoard(dir);
  const trackio = await trackioOf(dir, notes);
  const lastWrite = Math.max(
    newest?.mtime ?? 0,
    ...parquet.map((c) => mtimeOf(c.file)),
    ...tensorboard.files.map(mtimeOf),
    mtimeOf(dir),
    trackio ? trackioLastWrite(trackio.db) : 0,
  );
  if (tensorboard.files.length) {
    const folders = [...new Set(tensorboard.files.map((f) => path.relative(dir, path.dirname(f)) || '.'))].join(', ');
    notes.push(
      `TensorBoard event files in ${folders}: ${tensorboard.steps.size} logged step(s)${tensorboard.args ? ' and the training arguments' : ''} read from them`,
    );
  }
  const logged: LoggedSteps = new Map(trackio?.steps);
  for (const [step, entry] of tensorboard.steps) logged.set(step, entry);
  const fromTrackio = parquet.length === 0 ? trackioCompletions(trackio) : [];
  const output = await runOutput({
    state: newest,
    logged,
    args: tensorboard.args ?? (trackio && Object.keys(trackio.config).length ? trackio.config : undefined),
    completions: [
      ...parquet.map((c) => ({
        step: c.step,
        time: mtimeOf(c.file),
        name: path.relative(dir, c.file),
        rows: async () => parquetReadObjects({ file: await asyncBufferFromFile(c.file), rowEnd: COMPLETION_ROWS }),
      })),
      ...fromTrackio,
    ],
    checkpoints: checkpointDirs(dir)
      .filter((c) => fs.existsSync(path.join(c.dir, TRAINER_STATE)))
      .map((c) => ({ step: c.step, time: mtimeOf(c.dir), path: c.dir })),
    config: { trl_output: dir },
    versions: versionsFromModelCard(dir),
    lastWrite,
    notes,
  });
  return { ...output, trackioDb: trackio?.db };
}

/** One run of a Trackio project on its own (`project.db` or `project.db::run`), as the events of a run. */
export async function readTrackioOutput(db: string, run?: string): Promise<TrlOutput> {
  const trackio = await readTrackioRun(db, run);
  const versions: Record<string, string> =
    typeof trackio.config.transformers_version === 'string' ? { transformers: trackio.config.transformers_version } : {};
  const output = await runOutput({
    logged: trackio.steps,
    args: Object.keys(trackio.config).length ? trackio.config : undefined,
    completions: trackioCompletions(trackio),
    checkpoints: [],
    config: { trackio: `${db}${TRACKIO_RUN_SEPARATOR}${trackio.name}` },
    versions,
    lastWrite: trackioLastWrite(db),
    notes: [describeTrackio(trackio)],
  });
  return { ...output, trackioDb: db };
}

async function trackioOf(dir: string, notes: string[]): Promise<TrackioRun | undefined> {
  let info: TrackioRunInfo | undefined;
  try {
    info = await trackioRunOf(dir);
    if (!info) return undefined;
    const run = await readTrackioRun(info.db, info.id);
    notes.push(describeTrackio(run));
    return run;
  } catch (error) {
    if (info) notes.push(`the Trackio project ${info.db} cannot be read (${(error as Error).message}): skipped`);
    return undefined;
  }
}

function describeTrackio(run: TrackioRun): string {
  const completions = run.completions.size ? `, completions at ${run.completions.size} step(s)` : '';
  return `Trackio project ${run.project} (run ${run.name}, ${run.db}): ${run.steps.size} logged step(s)${completions} read from it`;
}

function trackioCompletions(run: TrackioRun | undefined): RunSources['completions'] {
  return [...(run?.completions ?? [])].map(([step, { time, rows }]) => ({
    step,
    time,
    name: `the Trackio table of step ${step}`,
    rows: async () => rows.slice(0, COMPLETION_ROWS),
  }));
}

/**
 * The first `entries` logged steps of a big folder's newest trainer state, as the first events its
 * full read will give (the same start, the same steps), read from the head and tail of the file
 * alone: the dashboard draws them while the whole file is parsed. Undefined where the full read is
 * quick anyway, or where a tracker decides the times (TensorBoard, Trackio).
 */
export async function readTrlOutputHead(dir: string, entries = 2000, minBytes = 8 << 20): Promise<RunEvent[] | undefined> {
  const newest = stateFiles(dir).at(-1);
  if (!newest || fs.statSync(newest.file).size < minBytes) return undefined;
  if (tensorBoardFiles(dir).length > 0 || (await trackioRunOf(dir).catch(() => undefined))) return undefined;
  const state = stateHead(newest.file, entries);
  if (!state) return undefined;
  const output = await runOutput(
    {
      state: { state, mtime: newest.mtime },
      logged: new Map(),
      completions: completionFiles(dir).map((c) => ({ step: c.step, time: mtimeOf(c.file), name: '', rows: async () => [] })),
      checkpoints: [],
      config: { trl_output: dir },
      versions: versionsFromModelCard(dir),
      lastWrite: newest.mtime,
      notes: [],
    },
    { headOnly: true },
  );
  return output.events;
}

/** `global_step`, `max_steps` and the first `entries` of `log_history`, from the file's first 4 MB and last 64 KB. */
function stateHead(file: string, entries: number): TrainerState | undefined {
  const fd = fs.openSync(file, 'r');
  let head: string;
  let tail: string;
  try {
    const size = fs.fstatSync(fd).size;
    const read = (length: number, position: number) => {
      const buffer = Buffer.alloc(length);
      return buffer.toString('utf8', 0, fs.readSync(fd, buffer, 0, length, position));
    };
    head = read(Math.min(size, 4 << 20), 0);
    tail = read(Math.min(size, 64 << 10), Math.max(0, size - (64 << 10)));
  } finally {
    fs.closeSync(fd);
  }
  const key = head.indexOf('"log_history"');
  const open = key < 0 ? -1 : head.indexOf('[', key);
  if (open < 0) return undefined;
  const history: Record<string, unknown>[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = open + 1; i < head.length && history.length < entries; i++) {
    const c = head.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b) {
      if (depth++ === 0) start = i;
    } else if (c === 0x7d) {
      if (--depth === 0) history.push(JSON.parse(head.slice(start, i + 1)) as Record<string, unknown>);
    } else if (c === 0x5d && depth === 0) break;
  }
  // Outside log_history: before it in the head, or after it in the tail (TRL sorts the keys).
  const outside = `${head.slice(0, key)}\n${tail.slice(tail.lastIndexOf(']') + 1)}`;
  const number = (name: string) => {
    const match = new RegExp(`"${name}"\\s*:\\s*(-?\\d+)`).exec(outside);
    return match ? Number(match[1]) : undefined;
  };
  return { global_step: number('global_step'), max_steps: number('max_steps'), log_history: history };
}

async function runOutput(sources: RunSources, { headOnly = false } = {}): Promise<TrlOutput> {
  const { state: newest, logged, args, notes, lastWrite } = sources;
  const history = newest?.state.log_history ?? [];
  const argsMaxSteps = args?.max_steps;
  const maxSteps =
    isNumber(newest?.state.max_steps) && newest.state.max_steps > 0
      ? newest.state.max_steps
      : isNumber(argsMaxSteps) && argsMaxSteps > 0
        ? argsMaxSteps
        : null;
  let firstLogged = Infinity;
  for (const { time: at } of logged.values()) if (at > 0) firstLogged = Math.min(firstLogged, at);
  const times = [newest?.mtime ?? 0, ...sources.completions.map((c) => c.time)];
  const time = newest?.mtime ?? lastWrite;

  const events: RunEvent[] = [
    {
      event: 'start',
      time: Number.isFinite(firstLogged) ? firstLogged : Math.min(...times.filter((t) => t > 0), time),
      config_file: '',
      argv: [],
      resumed_from: null,
      max_steps: maxSteps,
      config: { ...sources.config, ...(args ? { training: args } : {}) },
      versions: sources.versions,
      devices: {},
      pid: 0,
    },
  ];
  if (maxSteps !== null) events.push({ event: 'train_begin', time: events[0].time, step: 0, max_steps: maxSteps });
  const rewardNames = new Set<string>();
  // What each key is, worked out once per key rather than once per logged value.
  const keyKinds = new Map<string, 'eval' | 'train'>();
  const kindOf = (key: string) => {
    let kind = keyKinds.get(key);
    if (kind === undefined) {
      kind = key.startsWith('eval_') ? 'eval' : 'train';
      if (key.startsWith('rewards/') && key.endsWith('/mean')) rewardNames.add(key.slice('rewards/'.length, -'/mean'.length));
      keyKinds.set(key, kind);
    }
    return kind;
  };
  let lastInState = 0;
  for (const entry of history) {
    const step = entry.step;
    if (!isNumber(step)) continue;
    lastInState = Math.max(lastInState, step);
    const metrics: Record<string, number> = {};
    let evaluation = false;
    for (const key in entry) {
      const value = entry[key];
      if (key === 'step' || !isNumber(value)) continue;
      metrics[key] = value;
      if (kindOf(key) === 'eval') evaluation = true;
    }
    const at = logged.get(step)?.time ?? time;
    if ('train_runtime' in entry) events.push({ event: 'summary', time: at, step, metrics });
    else events.push({ event: evaluation ? 'eval' : 'log', time: at, step, metrics });
  }
  if (headOnly) return { events, notes, live: true, lastWrite };
  // A tracker has every logged step; trainer_state.json only those up to the newest checkpoint.
  let fromTrackers = 0;
  for (const [step, { time: at, metrics }] of [...logged].sort((a, b) => a[0] - b[0])) {
    if (step <= lastInState || step === 0) continue;
    // The closing summary is logged at the last step, under the same step as its metrics.
    const summary = Object.fromEntries(Object.entries(metrics).filter(([k]) => SUMMARY_KEYS.has(k)));
    const train = Object.fromEntries(Object.entries(metrics).filter(([k]) => !SUMMARY_KEYS.has(k) && kindOf(k) === 'train'));
    const evaluation = Object.fromEntries(Object.entries(metrics).filter(([k]) => kindOf(k) === 'eval'));
    if (Object.keys(train).length) events.push({ event: 'log', time: at, step, metrics: train });
    if (Object.keys(evaluation).length) events.push({ event: 'eval', time: at, step, metrics: evaluation });
    if (Object.keys(summary).length) events.push({ event: 'summary', time: at, step, metrics: summary });
    fromTrackers++;
  }
  if (fromTrackers && newest) notes.push(`${fromTrackers} logged step(s) after the newest ${TRAINER_STATE} come from the tracker`);
  for (const completion of sources.completions) {
    try {
      events.push({
        event: 'completions',
        time: completion.time,
        step: completion.step,
        rows: (await completion.rows()).map((row) => completionRow(row, rewardNames)),
      });
    } catch (error) {
      notes.push(`${completion.name} cannot be read (${(error as Error).message}): skipped`);
    }
  }
  for (const checkpoint of sources.checkpoints) events.push({ event: 'checkpoint', ...checkpoint });
  events.sort((a, b) => stepOf(a) - stepOf(b));

  const live = Date.now() / 1000 - lastWrite < LIVE_SECONDS;
  let step = newest?.state.global_step ?? 0;
  for (const loggedStep of logged.keys()) step = Math.max(step, loggedStep);
  const ended = events.reduce((latest, e) => Math.max(latest, e.time), 0);
  if (maxSteps !== null && step >= maxSteps) {
    events.push({
      event: 'end',
      time: ended,
      status: 'finished',
      step,
      ...(sources.config.trl_output ? { model_path: String(sources.config.trl_output) } : {}),
    });
  } else if (!live && (newest || fromTrackers)) events.push({ event: 'end', time: ended, status: 'stopped', step });

  if (!newest && fromTrackers === 0) {
    notes.push(`no ${TRAINER_STATE} yet: TRL writes it with each checkpoint (save_steps), so the metrics appear at the first save`);
  } else if (!live && maxSteps !== null && step < maxSteps) {
    notes.push(`the newest state is at step ${step} of ${maxSteps}: the run stopped, or its later steps were not saved`);
  }
  if ((newest || fromTrackers) && sources.completions.length === 0) {
    const what = sources.config.trackio ? 'this run' : 'this folder';
    notes.push(`${what} has metrics but no completions: set \`log_completions: true\` (GRPOConfig) to see them`);
  }
  return { events, notes, live, lastWrite };
}

function stepOf(event: RunEvent): number {
  return event.event === 'start' ? -2 : event.event === 'train_begin' ? -1 : event.step;
}

function mtimeOf(file: string): number {
  try {
    return fs.statSync(file).mtimeMs / 1000;
  } catch {
    return 0;
  }
}

/** A logged completion: prompt, completion, each reward function's value, the advantage, the rest as extra. */
function completionRow(row: Record<string, unknown>, rewardNames: Set<string>): CompletionRow {
  const rewards: Record<string, number | null> = {};
  const extra: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    if (key === 'step' || key === 'prompt' || key === 'completion' || key === 'advantage') continue;
    // Without a log naming the rewards, every numeric column but the advantage is taken for one.
    if (rewardNames.has(key) || (rewardNames.size === 0 && (typeof value === 'number' || value === null))) {
      rewards[key] = isNumber(value) ? value : null;
    } else extra[key] = typeof value === 'bigint' ? Number(value) : value;
  }
  return {
    prompt: row.prompt,
    completion: row.completion,
    rewards,
    advantage: isNumber(row.advantage) ? row.advantage : null,
    ...(Object.keys(extra).length ? { extra } : {}),
  };
}

/**
 * Follows a run made elsewhere that may still be training (a TRL output folder, a Trackio run):
 * reads it again when its trainer state, completions or tracker files change, and hands on the
 * events not seen before (by kind and step).
 */
export class TrlOutputFollower {
  private readonly seen = new Set<string>();
  private readonly trackio?: { db: string; run?: string };
  private trackioDb?: string;
  private stamp = '';
  private lastWrite = 0;
  private reading = false;
  private timer?: NodeJS.Timeout;
  live = true;
  notes: string[] = [];
  /** Settles after the first read. */
  ready: Promise<void> = Promise.resolve();

  constructor(
    private readonly id: string,
    private readonly onEvents: (events: RunEvent[]) => void,
    private readonly intervalMs = 2000,
  ) {
    this.trackio = parseTrackioRunId(id);
  }

  start(): this {
    this.ready = this.poll().catch(() => undefined);
    this.timer = setInterval(() => void this.poll().catch(() => undefined), this.intervalMs);
    return this;
  }

  async poll(): Promise<void> {
    if (!this.stamp && !this.trackio && !this.reading) {
      // A big folder's first steps go out before its whole state is parsed, and the host yields so they reach the dashboard.
      const head = await readTrlOutputHead(this.id).catch(() => undefined);
      if (head) {
        this.deliver(head);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    const folder = this.trackio
      ? []
      : [
          ...stateFiles(this.id).map((s) => `${s.file}:${s.mtime}`),
          ...completionFiles(this.id).map((c) => c.file),
          ...tensorBoardFiles(this.id).map((f) => `${f}:${mtimeOf(f)}`),
        ];
    const db = this.trackio?.db ?? this.trackioDb;
    const stamp = [...folder, db ? `${db}:${trackioLastWrite(db)}` : ''].join('|');
    // Unchanged files are read again only when a live run may have gone quiet (it then ends as stopped).
    const mayHaveEnded = this.live && Date.now() / 1000 - this.lastWrite >= LIVE_SECONDS;
    if (this.reading || (stamp === this.stamp && !mayHaveEnded)) return;
    this.reading = true;
    try {
      const read = this.trackio ? await readTrackioOutput(this.trackio.db, this.trackio.run) : await readTrlOutput(this.id);
      this.stamp = stamp;
      this.trackioDb = read.trackioDb;
      this.lastWrite = read.lastWrite;
      this.live = read.live;
      this.notes = read.notes;
      this.deliver(read.events);
    } finally {
      this.reading = false;
    }
  }

  /** Hands on the events not seen before, by kind and step. */
  private deliver(events: RunEvent[]): void {
    const fresh = events.filter((event) => {
      const key = `${event.event}:${'step' in event ? event.step : ''}`;
      if (this.seen.has(key)) return false;
      this.seen.add(key);
      return true;
    });
    if (fresh.length) this.onEvents(fresh);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
