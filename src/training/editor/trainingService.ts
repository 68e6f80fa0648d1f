import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Ctx } from '../../ctx';
import type { RunEvent } from '../core/events';
import { newRunDir } from '../core/runFolder';
import {
  EVENTS_FILE,
  EventFollower,
  isRunnerAlive,
  isStopping,
  killRunner,
  launchRunner,
  listRuns,
  PID_FILE,
  requestStop,
  runLocation,
  runState,
  type RunSource,
  type RunState,
} from '../core/runs';
import { append } from '../../shared/numbers';
import { isExternalRun, TrlOutputFollower } from '../core/trlOutput';
import { parseTrackioRunId, TRACKIO_DB_EXTENSION } from '../core/trackio';

const OPENED_RUNS_KEY = 'grpoStudio.openedRuns';

/**
 * The runs of the workspace (`<folder>/runs/*`), read from their folders so that a window reload
 * finds running trainers again and reattaches to their events.
 */
export class TrainingService implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly eventsEmitter = new vscode.EventEmitter<{ dir: string; events: RunEvent[] }>();
  /** Appended events of every followed run (its whole history first). */
  readonly onEvents = this.eventsEmitter.event;
  private readonly followers = new Map<string, EventFollower | TrlOutputFollower>();
  private readonly histories = new Map<string, RunEvent[]>();
  private readonly unfollowed = new Map<string, { stamp: string; state: RunState }>();
  private timer: NodeJS.Timeout;
  runs: RunState[] = [];

  constructor(private readonly ctx: Ctx) {
    this.refresh();
    this.timer = setInterval(() => this.refresh(), 1000);
  }

  get runsDirs(): string[] {
    return (vscode.workspace.workspaceFolders ?? []).map((f) => path.join(f.uri.fsPath, 'runs'));
  }

  /** Run folders opened by hand (GRPO: Open Run Folder...), kept across reloads. */
  private get opened(): string[] {
    return this.ctx.extension.workspaceState.get<string[]>(OPENED_RUNS_KEY, []).filter((dir) => fs.existsSync(runLocation(dir)));
  }

  /** Lists a run made elsewhere (a GRPO Studio run, a TRL output folder, a Trackio run) with the workspace's runs. */
  async open(dir: string): Promise<RunState | undefined> {
    if (!this.opened.includes(dir)) await this.ctx.extension.workspaceState.update(OPENED_RUNS_KEY, [...this.opened, dir]);
    this.refresh();
    const follower = this.followers.get(dir);
    if (follower instanceof TrlOutputFollower) await follower.ready;
    this.refresh();
    return this.runs.find((r) => r.dir === dir);
  }

  /** What a followed TRL output folder lacks, in plain words (empty for other runs). */
  notesOf(dir: string): string[] {
    const follower = this.followers.get(dir);
    return follower instanceof TrlOutputFollower ? follower.notes : [];
  }

  /** Events of a run so far (followed from now on). */
  history(dir: string): RunEvent[] {
    this.follow(dir);
    return this.histories.get(dir) ?? [];
  }

  refresh(): void {
    const dirs = [...new Set([...this.runsDirs.flatMap(listRuns), ...this.opened])];
    const next = dirs.map((dir) => this.stateOf(dir));
    for (const run of next) if (run.status === 'running') this.follow(run.dir);
    const key = JSON.stringify(next);
    if (key !== JSON.stringify(this.runs)) {
      this.runs = next;
      this.changed.fire();
    }
  }

  /** A followed run from its events in memory; another from its folder, read again only when its files change. */
  private stateOf(dir: string): RunState {
    const history = this.histories.get(dir);
    const follower = this.followers.get(dir);
    if (follower instanceof TrlOutputFollower) {
      const trackio = parseTrackioRunId(dir);
      const name = trackio ? `${path.basename(trackio.db, TRACKIO_DB_EXTENSION)} · ${trackio.run ?? ''}` : path.basename(dir);
      return { ...runState(dir, history, follower.live), name, external: trackio ? 'trackio' : 'trl-output' };
    }
    if (isExternalRun(dir)) {
      this.follow(dir);
      return this.stateOf(dir);
    }
    if (history) return runState(dir, history);
    const stamp = [EVENTS_FILE, PID_FILE]
      .map((file) => {
        try {
          const { size, mtimeMs } = fs.statSync(path.join(dir, file));
          return `${size}:${mtimeMs}`;
        } catch {
          return '-';
        }
      })
      .join('|');
    const cached = this.unfollowed.get(dir);
    if (cached?.stamp === stamp && cached.state.status !== 'running') return cached.state;
    const state = runState(dir);
    this.unfollowed.set(dir, { stamp, state });
    return state;
  }

  private follow(dir: string): void {
    if (this.followers.has(dir)) return;
    this.histories.set(dir, []);
    const onEvents = (events: RunEvent[]) => {
      append(this.histories.get(dir)!, events);
      this.eventsEmitter.fire({ dir, events });
      this.refresh();
    };
    const follower = isExternalRun(dir) ? new TrlOutputFollower(dir, onEvents) : new EventFollower(path.join(dir, EVENTS_FILE), onEvents);
    // Registered before its first read: that read's callback refreshes, which follows running runs
    // again (a second follower would deliver every later event twice).
    this.followers.set(dir, follower);
    follower.start();
  }

  /**
   * Starts a detached run of a config (from its workspace folder) or a script (from its own folder,
   * as `python train.py` is run); it keeps going when the window closes.
   */
  start(source: RunSource, python: string, options: { resumeDir?: string; maxSteps?: number } = {}): string {
    const config = source.file;
    const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(config))?.uri.fsPath ?? path.dirname(config);
    const runDir = options.resumeDir ?? newRunDir(folder, config);
    const child = launchRunner({
      python,
      runnerScript: this.ctx.pythonScript('runner'),
      source,
      runDir,
      cwd: source.kind === 'script' ? path.dirname(config) : folder,
      maxSteps: options.maxSteps,
      resume: Boolean(options.resumeDir),
      detached: true,
    });
    child.on('error', (error) => void vscode.window.showErrorMessage(vscode.l10n.t('Could not start {0}: {1}', python, error.message)));
    fs.writeFileSync(path.join(runDir, 'config.path'), config);
    this.follow(runDir);
    this.refresh();
    return runDir;
  }

  /** Stop with a checkpoint; asked again while that stop is under way, offers to kill the runner. */
  async stop(dir: string): Promise<void> {
    const events = this.histories.get(dir);
    if (!isStopping(dir, events)) {
      requestStop(dir, events);
      this.refresh();
      return;
    }
    const kill = vscode.l10n.t('Kill');
    const answer = await vscode.window.showWarningMessage(
      vscode.l10n.t(
        '{0} is stopping: it finishes its current step, then saves a checkpoint. Kill it now, without a checkpoint?',
        path.basename(dir),
      ),
      { modal: true, detail: vscode.l10n.t('A reward that hangs never lets the step end. The events logged so far stay.') },
      kill,
    );
    if (answer === kill) {
      killRunner(dir);
      this.refresh();
    }
  }

  /** What a run was started with (the file recorded by `start`; a script with the arguments of its first session). */
  sourceOf(dir: string): RunSource | undefined {
    let file: string;
    try {
      file = fs.readFileSync(path.join(dir, 'config.path'), 'utf8').trim();
    } catch {
      return undefined;
    }
    if (!file) return undefined;
    if (!file.endsWith('.py')) return { kind: 'config', file };
    const start = this.history(dir).find((e) => e.event === 'start');
    return { kind: 'script', file, args: start?.event === 'start' ? start.argv.slice(1) : [] };
  }

  delete(dir: string): void {
    if (isRunnerAlive(dir)) throw new Error(vscode.l10n.t('Stop the run before deleting it.'));
    this.followers.get(dir)?.stop();
    this.followers.delete(dir);
    this.histories.delete(dir);
    this.unfollowed.delete(dir);
    fs.rmSync(dir, { recursive: true, force: true });
    this.refresh();
  }

  dispose(): void {
    clearInterval(this.timer);
    for (const follower of this.followers.values()) follower.stop();
    this.changed.dispose();
    this.eventsEmitter.dispose();
  }
}
