import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EVENTS_FILE, EventReader, type RunEvent, type RunStatus } from './events';
import { RunFold } from './runFold';
import { PYTHON_SCRIPTS } from '../../shared/pythonScripts';
import { isTrlOutputFolder, readTrackioOutput, readTrlOutput } from './trlOutput';
import { parseTrackioRunId } from './trackio';

/** A run as the Runs view shows it: from its folder alone, so it survives a window reload. */
export interface RunState {
  dir: string;
  name: string;
  status: RunStatus | 'running';
  step: number;
  maxSteps?: number;
  /** When the latest session (the first run, or the latest resume) started, and at which step. */
  startedAt?: number;
  startStep?: number;
  /** Seconds the earlier sessions trained (a resumed run's elapsed time leaves out the pause). */
  earlierSeconds?: number;
  /** Wall time of the latest event, seconds since the epoch. */
  lastEventAt?: number;
  error?: string;
  /** The latest reward (`reward`) logged. */
  reward?: number;
  /** Running, and asked to stop (it finishes the step and saves a checkpoint first). */
  stopping?: boolean;
  /** Made by something else (a TRL output folder, a Trackio run): watched, never stopped, resumed or deleted from here. */
  external?: 'trl-output' | 'trackio';
}

export { EVENTS_FILE } from './events';
export const STOP_FILE = 'STOP';
export const PID_FILE = 'runner.pid';
export const LOG_FILE = 'runner.log';
/** The runner holds an OS lock on this file while it owns the folder; it holds the owner's pid. */
export const LOCK_FILE = 'runner.lock';
/** The runner's exit status when another live runner owns the folder (EX_TEMPFAIL). */
export const EXIT_RUN_BUSY = 75;

/** A run folder whose trainer is still running cannot take another. */
export class RunBusyError extends Error {
  constructor(
    readonly runDir: string,
    readonly pid: number | string,
  ) {
    super(`${runDir} is still training (pid ${pid}): stop it first (GRPO: Stop Run, or create ${path.join(runDir, STOP_FILE)})`);
  }
}

/** A pid written in the run folder (`runner.pid` by whoever launched it, `runner.lock` by the runner itself). */
function pidIn(dir: string, file: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(path.join(dir, file), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The live runner that owns the folder, if any: the one its launcher recorded, or the one holding
 * the runner's lock (a runner started by hand, or by another window).
 */
export function ownerPid(dir: string): number | undefined {
  return [pidIn(dir, PID_FILE), pidIn(dir, LOCK_FILE)].find((pid) => pid !== undefined && isLiveRunner(pid));
}

/**
 * A run's events, read a megabyte at a time: memory follows what the caller keeps, not the file
 * (an events.jsonl of long completions passes 512 MB, more than one JavaScript string holds).
 */
export function* eventsIn(dir: string): Generator<RunEvent> {
  let fd: number;
  try {
    fd = fs.openSync(path.join(dir, EVENTS_FILE), 'r');
  } catch {
    return;
  }
  try {
    const reader = new EventReader();
    const buffer = Buffer.alloc(1 << 20);
    let position = 0;
    for (let read; (read = fs.readSync(fd, buffer, 0, buffer.length, position)) > 0; position += read) {
      yield* reader.push(buffer.subarray(0, read));
    }
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * A run's events from its folder, whichever kind it is: a GRPO Studio run folder (streamed), or a
 * TRL output folder read as events, with what it lacks in `notes`.
 */
/** The folder of a run, or for a Trackio run (`project.db::run`) its project's database. */
export function runLocation(dir: string): string {
  return parseTrackioRunId(dir)?.db ?? dir;
}

/** A GRPO Studio run folder, a TRL output folder, or a Trackio project's run (`project.db::run`). */
export async function readRun(dir: string): Promise<{ events: Iterable<RunEvent>; notes: string[] }> {
  const trackio = parseTrackioRunId(dir);
  if (trackio) return readTrackioOutput(trackio.db, trackio.run);
  if (isTrlOutputFolder(dir)) return readTrlOutput(dir);
  return { events: eventsIn(dir), notes: [] };
}

export function readEvents(dir: string): RunEvent[] {
  return Array.from(eventsIn(dir));
}

/** A folder written by GRPOStudioCallback alone (a cluster job) counts as running this long after its last event. */
export const CALLBACK_RUN_QUIET_SECONDS = 30 * 60;

/**
 * Whether a runner process owns the run folder. A folder with neither pid file was written by the
 * callback on its own, maybe on another machine (Remote-SSH, a synced folder): it is alive while
 * its events keep coming.
 */
export function isRunnerAlive(dir: string): boolean {
  if (ownerPid(dir) !== undefined) return true;
  if ([PID_FILE, LOCK_FILE].some((file) => fs.existsSync(path.join(dir, file)))) return false;
  try {
    return Date.now() / 1000 - fs.statSync(path.join(dir, EVENTS_FILE)).mtimeMs / 1000 < CALLBACK_RUN_QUIET_SECONDS;
  } catch {
    return false;
  }
}

function isLiveRunner(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // A pid outlives its process in the file: after a crash and a reboot it may be another program's.
  // Where the command line can be read (Linux), it must be the runner's (under accelerate too).
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(RUNNER_SCRIPT);
  } catch {
    return true;
  }
}

/** The runner's file name, as it appears in its command line. */
export const RUNNER_SCRIPT = PYTHON_SCRIPTS.runner;

/** The state of a run from its events; a run without an end whose runner is gone has failed. */
export function runState(dir: string, events: Iterable<RunEvent> = eventsIn(dir), alive = isRunnerAlive(dir)): RunState {
  const fold = new RunFold(events, { keepLogs: false });
  const state: RunState = {
    dir,
    name: path.basename(dir),
    status: fold.status,
    step: fold.step,
    maxSteps: fold.maxSteps,
    startedAt: fold.startedAt,
    startStep: fold.sessions.length ? fold.startStep : undefined,
    earlierSeconds: fold.earlierSeconds,
    lastEventAt: fold.lastEventAt,
    error: fold.error,
    reward: fold.reward,
  };
  // A runner started after the last session ended (a resume still loading) makes the run running again.
  if (state.status !== 'running' && alive && fold.endedAt !== undefined && pidWrittenAt(dir) > fold.endedAt) {
    state.status = 'running';
    state.error = undefined;
  }
  if (state.status === 'running' && !alive) {
    state.status = 'failed';
    state.error ??= 'the runner stopped without an end event (killed or crashed); see runner.log';
  }
  if (state.status === 'running' && (fs.existsSync(path.join(dir, STOP_FILE)) || fold.stopRequested)) state.stopping = true;
  return state;
}

/** Run folders under `runsDir` (with an events.jsonl, a runner still starting, or TRL's own output), newest first. */
export function listRuns(runsDir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(runsDir);
  } catch {
    return [];
  }
  return names
    .map((name) => path.join(runsDir, name))
    .filter((dir) => fs.existsSync(path.join(dir, EVENTS_FILE)) || fs.existsSync(path.join(dir, PID_FILE)) || isTrlOutputFolder(dir))
    .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
}

/** Seconds to the last step at the latest session's pace, when the run knows its max_steps. */
export function eta(state: RunState, now = Date.now() / 1000): number | undefined {
  const done = state.step - (state.startStep ?? 0);
  if (state.status !== 'running' || !state.maxSteps || !state.startedAt || done <= 0) return undefined;
  const perStep = ((state.lastEventAt ?? now) - state.startedAt) / done;
  return Math.max(0, (state.maxSteps - state.step) * perStep);
}

/** Seconds the run has trained: every session, without the pauses between them. */
export function elapsed(state: RunState, now = Date.now() / 1000): number | undefined {
  if (state.startedAt === undefined) return undefined;
  return (state.earlierSeconds ?? 0) + Math.max(0, (state.status === 'running' ? now : (state.lastEventAt ?? now)) - state.startedAt);
}

function pidWrittenAt(dir: string): number {
  try {
    return fs.statSync(path.join(dir, PID_FILE)).mtimeMs / 1000;
  } catch {
    return 0;
  }
}

/** How a script is launched with several processes: `accelerate launch --num_processes N --config_file F`. */
export interface ScriptLauncher {
  numProcesses?: number;
  accelerateConfig?: string;
}

/** What a run trains: a TRL run config, or the user's own script with its arguments. */
export type RunSource = { kind: 'config'; file: string } | { kind: 'script'; file: string; args: string[]; launcher?: ScriptLauncher };

export interface LaunchOptions {
  python: string;
  runnerScript: string;
  source: RunSource;
  runDir: string;
  cwd: string;
  maxSteps?: number;
  resume?: boolean;
  /** Detached runs outlive the editor window; the CLI runs in the foreground. */
  detached: boolean;
  env?: NodeJS.ProcessEnv;
}

/**
 * Starts the runner without a shell. Its output goes to `runner.log` in the run folder (so a
 * detached run keeps logging after the window closes) and its pid to `runner.pid`. A foreground
 * runner holds a pipe from us as its stdin and stops with a checkpoint when that closes: when the
 * command that started it ends, however it ends. Throws RunBusyError when a live runner owns the
 * folder (the runner refuses too, with EXIT_RUN_BUSY, for a race this check cannot see).
 */
export function launchRunner(options: LaunchOptions): ChildProcess {
  const owner = ownerPid(options.runDir);
  if (owner !== undefined) throw new RunBusyError(options.runDir, owner);
  fs.mkdirSync(options.runDir, { recursive: true });
  fs.rmSync(path.join(options.runDir, STOP_FILE), { force: true });
  const log = fs.openSync(path.join(options.runDir, LOG_FILE), 'a');
  const { source } = options;
  const args = [options.runnerScript, source.kind === 'config' ? '--config' : '--script', source.file, '--run-dir', options.runDir];
  if (options.maxSteps !== undefined && source.kind === 'config') args.push('--max-steps', String(options.maxSteps));
  if (options.resume) args.push('--resume');
  if (source.kind === 'script') {
    const { numProcesses, accelerateConfig } = source.launcher ?? {};
    if (numProcesses !== undefined) args.push('--num-processes', String(numProcesses));
    if (accelerateConfig) args.push('--accelerate-config', accelerateConfig);
    args.push('--', ...source.args);
  }
  const child = spawn(options.python, args, {
    cwd: options.cwd,
    detached: options.detached,
    stdio: [options.detached ? 'ignore' : 'pipe', log, log],
    env: {
      ...process.env,
      ...options.env,
      PYTHONUNBUFFERED: '1',
      PYTHONIOENCODING: 'utf-8',
      ...(options.detached ? {} : { GRPO_STUDIO_STOP_WITH_PARENT: '1' }),
    },
  });
  fs.closeSync(log);
  if (child.pid) fs.writeFileSync(path.join(options.runDir, PID_FILE), String(child.pid));
  if (options.detached) child.unref();
  return child;
}

/**
 * Whether a stop is under way: asked for and not yet honoured (the STOP file), or honoured and the
 * checkpoint still being saved (`stop_requested` in the session, no `end` yet).
 */
export function isStopping(dir: string, events: Iterable<RunEvent> = eventsIn(dir)): boolean {
  return fs.existsSync(path.join(dir, STOP_FILE)) || new RunFold(events, { keepLogs: false }).stopRequested;
}

/**
 * Asks the runner to checkpoint and stop after the current step, with a STOP file it looks for at
 * every step end (a runner still loading stops after its first step). No signal: a second one
 * aborts the run without a checkpoint, and on Windows a signal kills it outright. Once: the runner
 * deletes the file when it starts stopping, and a second file would outlive the run.
 */
export function requestStop(dir: string, events: RunEvent[] = readEvents(dir)): void {
  if (isRunnerAlive(dir) && !isStopping(dir, events)) fs.writeFileSync(path.join(dir, STOP_FILE), '');
}

/**
 * Ends a runner that does not stop (a reward that hangs never reaches the step end): SIGKILL to its
 * process group (a detached runner leads one, with accelerate's worker processes in it), else to
 * the process. The events written so far stay; the run then reads as failed.
 */
export function killRunner(dir: string): void {
  const pid = ownerPid(dir);
  if (pid === undefined) return;
  try {
    process.kill(process.platform === 'win32' ? pid : -pid, 'SIGKILL');
  } catch {
    process.kill(pid, 'SIGKILL');
  }
  fs.rmSync(path.join(dir, STOP_FILE), { force: true });
}

/**
 * Follows a growing events file by polling (fs.watch misses appends on some file systems), and
 * calls `onEvents` with each batch of new complete events, the whole history first.
 */
export class EventFollower {
  private offset = 0;
  private readonly reader = new EventReader();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly file: string,
    private readonly onEvents: (events: RunEvent[]) => void,
    private readonly intervalMs = 250,
  ) {}

  start(): this {
    this.poll();
    this.timer = setInterval(() => this.poll(), this.intervalMs);
    return this;
  }

  poll(): void {
    let fd: number | undefined;
    try {
      fd = fs.openSync(this.file, 'r');
      const size = fs.fstatSync(fd).size;
      if (size <= this.offset) return;
      const buffer = Buffer.alloc(size - this.offset);
      const read = fs.readSync(fd, buffer, 0, buffer.length, this.offset);
      this.offset += read;
      const events = this.reader.push(buffer.subarray(0, read));
      if (events.length) this.onEvents(events);
    } catch {
      // Not created yet.
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
