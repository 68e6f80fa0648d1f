import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { loadPythonParser } from '../discovery/core/parser';
import type { TrlSchema } from '../training/core/configCheck';
import { runPreflight } from '../training/core/preflight';
import type { RunEvent } from '../training/core/events';
import { RunFold } from '../training/core/runFold';
import { findResumableRun, newRunDir, runDirProblem } from '../training/core/runFolder';
import {
  EVENTS_FILE,
  EventFollower,
  EXIT_RUN_BUSY,
  LOCK_FILE,
  LOG_FILE,
  launchRunner,
  PID_FILE,
  requestStop,
  RunBusyError,
  runState,
  type RunSource,
} from '../training/core/runs';
import { cliLocalizer } from './localizer';
import { cliPython, PYTHON_CHOOSER } from './python';
import { pythonScript } from '../shared/pythonScripts';
import { numberOption } from './options';

/**
 * `grpo-studio train --config FILE | --script FILE.py [-- SCRIPT ARGS...]`: the editor's runner in the
 * foreground, with a progress bar on stderr.
 */
export async function runTrain(argv: string[]): Promise<number> {
  const usage = (message: string) => {
    process.stderr.write(`grpo-studio train: ${message}\n`);
    return 2;
  };
  // After `--`, everything is the script's own.
  const split = argv.indexOf('--');
  const [ours, scriptArgs] = split < 0 ? [argv, []] : [argv.slice(0, split), argv.slice(split + 1)];
  let values;
  try {
    ({ values } = parseArgs({
      args: ours,
      options: {
        config: { type: 'string' },
        script: { type: 'string' },
        'max-steps': { type: 'string' },
        'run-dir': { type: 'string' },
        resume: { type: 'boolean', default: false },
        'num-processes': { type: 'string' },
        'accelerate-config': { type: 'string' },
      },
    }));
  } catch (error) {
    return usage((error as Error).message);
  }
  if (values.config && values.script) return usage('give --config FILE or --script FILE.py, not both');
  if (!values.config && !values.script) return usage('--config FILE or --script FILE.py is required');
  if (split >= 0 && !values.script) return usage('arguments after -- go to a --script; a --config takes none');
  if (values.script && values['max-steps'] !== undefined)
    return usage("--max-steps applies to --config; a script's own GRPOConfig sets max_steps");
  const given = (values.config ?? values.script)!;
  const config = path.resolve(given);
  if (!fs.existsSync(config)) return usage(`no such ${values.script ? 'script' : 'config'}: ${given}`);
  if (!values.script && (values['num-processes'] !== undefined || values['accelerate-config'] !== undefined))
    return usage("--num-processes and --accelerate-config apply to --script; a run config's own keys say how it is launched");
  const numProcesses = values['num-processes'] === undefined ? undefined : numberOption(values['num-processes'], { integer: true, min: 1 });
  if (values['num-processes'] !== undefined && numProcesses === undefined) return usage('--num-processes must be a positive integer');
  const accelerateConfig = values['accelerate-config'] && path.resolve(values['accelerate-config']);
  if (accelerateConfig && !fs.existsSync(accelerateConfig)) return usage(`no such accelerate config: ${values['accelerate-config']}`);
  const source: RunSource = values.script
    ? { kind: 'script', file: config, args: scriptArgs, launcher: { numProcesses, accelerateConfig } }
    : { kind: 'config', file: config };
  const maxSteps = values['max-steps'] === undefined ? undefined : numberOption(values['max-steps'], { integer: true, min: 1 });
  if (values['max-steps'] !== undefined && maxSteps === undefined) return usage('--max-steps must be a positive integer');

  // Before minutes of model loading: the editor's pre-flight, each error with its place and fix.
  const python = cliPython();
  const schema = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'schemas', 'trl-grpo.json'), 'utf8')) as TrlSchema;
  const cwd = process.cwd();
  const { findings } = await runPreflight({
    configFile: config,
    script: source.kind === 'script',
    python: python.path,
    pythonSource: python.source,
    pythonChooser: PYTHON_CHOOSER,
    cwd,
    roots: rootsFor(config),
    runsDir: values['run-dir'] ? path.dirname(path.resolve(values['run-dir'])) : path.join(cwd, 'runs'),
    schema,
    parser: await loadPythonParser(__dirname),
    l10n: cliLocalizer(),
  }).catch((error: Error) => ({
    findings: [
      { severity: 'error' as const, message: `${python.path} does not run: ${error.message.split('\n')[0]}`, location: undefined },
    ],
  }));
  const errors = findings
    .filter((f) => f.severity === 'error')
    .map((f) => {
      if (!f.location) return f.message;
      const file = f.location.file === config ? given : path.relative(cwd, f.location.file);
      return `${file}:${f.location.range.start.line + 1}:${f.location.range.start.character + 1}: ${f.message}`;
    });
  if (errors.length) {
    process.stderr.write(`grpo-studio train: cannot start:\n${errors.map((e) => `  ${e}`).join('\n')}\n`);
    return 1;
  }

  let runDir = values['run-dir'] ? path.resolve(values['run-dir']) : undefined;
  if (values.resume && !runDir) {
    runDir = findResumableRun(process.cwd(), config);
    if (!runDir) return usage(`--resume: no run of ${given} with a checkpoint in ./runs; pass --run-dir`);
  }
  runDir ??= newRunDir(process.cwd(), config);
  const problem = runDirProblem(runDir, values.resume);
  if (problem) return usage(problem);
  process.stdout.write(`run dir: ${runDir}\n`);

  // Foreground: the runner stops with a checkpoint when this command ends, even by kill -9.
  const child = launchRunner({
    python: python.path,
    runnerScript: pythonScript(path.join(__dirname, '..'), 'runner'),
    source,
    runDir,
    cwd: process.cwd(),
    maxSteps,
    resume: values.resume,
    detached: false,
  });
  const progress = new ProgressLine(process.stderr);
  const follower = new EventFollower(path.join(runDir, EVENTS_FILE), (events) => progress.update(events)).start();
  // Ctrl+C or a SIGTERM (a job scheduler's) stops the run with a checkpoint; a second one kills it.
  let stoppedBy: NodeJS.Signals | undefined;
  const stop = (signal: NodeJS.Signals) => {
    if (stoppedBy) {
      child.kill('SIGKILL');
      return;
    }
    stoppedBy = signal;
    process.stderr.write(
      `\ngrpo-studio train: stopping at the next step (a checkpoint is saved); ${signal === 'SIGINT' ? 'Ctrl+C' : signal} again to kill\n`,
    );
    requestStop(runDir!);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  let killedBy: NodeJS.Signals | undefined;
  const code = await new Promise<number>((resolve) => {
    child.on('error', (error) => {
      process.stderr.write(`grpo-studio train: could not start ${python.path}: ${error.message}\n`);
      resolve(127);
    });
    child.on('exit', (exitCode, signal) => {
      killedBy = signal ?? undefined;
      resolve(exitCode ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : 1));
    });
  });
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  follower.poll();
  follower.stop();
  progress.finish();

  if (code === EXIT_RUN_BUSY) {
    // Another runner took the folder between our check and this start: it owns the pid file again.
    const owner = readOwner(runDir);
    if (owner !== undefined) fs.writeFileSync(path.join(runDir, PID_FILE), String(owner));
    process.stderr.write(`grpo-studio train: ${new RunBusyError(runDir, owner ?? '?').message}\n`);
    return 1;
  }
  if (killedBy)
    process.stderr.write(`grpo-studio train: the runner was killed (${killedBy}); resume from its last checkpoint with --resume\n`);
  const state = runState(runDir, undefined, false);
  // A runner that exits with an error before its first event leaves an earlier session's end standing.
  if (code !== 0 && !stoppedBy && state.status !== 'failed') [state.status, state.error] = ['failed', undefined];
  process.stdout.write(`run ${state.status} at step ${state.step}${state.maxSteps ? `/${state.maxSteps}` : ''}: ${runDir}\n`);
  if (state.status === 'failed') {
    // Without an end event (a config error, a crash) the cause is at the end of the runner's log.
    const cause = state.error && !state.error.includes('without an end event') ? state.error : tail(path.join(runDir, LOG_FILE), 12);
    process.stderr.write(`${cause.trim().split('\n').slice(-12).join('\n')}\n(full log: ${path.join(runDir, LOG_FILE)})\n`);
    return code === 0 ? 1 : code;
  }
  // Interrupted by a signal: the shell's convention (130 for Ctrl+C), so scripts can tell it from a finished run.
  return stoppedBy ? 128 + os.constants.signals[stoppedBy] : 0;
}

/** The working folder, and the config's folder when it lies outside it (its `file.py::name` rewards). */
function rootsFor(config: string): string[] {
  const cwd = process.cwd();
  const inside = !path.relative(cwd, config).startsWith('..');
  return inside ? [cwd] : [cwd, path.dirname(config)];
}

function tail(file: string, lines: number): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return 'the runner left no log';
  }
}

/** One self-rewriting line on a terminal; a line per logged step otherwise (CI logs). */
class ProgressLine {
  private readonly fold = new RunFold([], { keepLogs: false });
  /** The pace counts from this session's start (a resumed run starts past step 0). */
  private started = Date.now();
  private startStep = 0;

  constructor(private readonly out: NodeJS.WriteStream) {}

  update(events: RunEvent[]): void {
    for (const event of events) {
      this.fold.apply(event);
      if (event.event === 'start') [this.started, this.startStep] = [Date.now(), this.fold.step];
      if (event.event === 'train_begin') this.startStep = Math.max(this.fold.step, event.step);
      if (event.event === 'log' && !this.out.isTTY) this.out.write(`${this.text()}\n`);
    }
    if (this.out.isTTY) this.out.write(`\r${this.text()}\x1b[K`);
  }

  finish(): void {
    if (this.out.isTTY) this.out.write('\n');
  }

  private text(): string {
    const { maxSteps, reward } = this.fold;
    const step = Math.max(this.fold.step, this.startStep);
    const width = 24;
    const filled = maxSteps ? Math.min(width, Math.round((step / maxSteps) * width)) : 0;
    const bar = maxSteps ? `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ` : '';
    const stepsThisSession = step - this.startStep;
    const perStep = stepsThisSession > 0 ? (Date.now() - this.started) / 1000 / stepsThisSession : undefined;
    return (
      `${bar}step ${step}${maxSteps ? `/${maxSteps}` : ''}` +
      (reward !== undefined ? ` · reward ${reward.toFixed(3)}` : '') +
      (perStep !== undefined ? ` · ${perStep.toFixed(1)} s/step` : '')
    );
  }
}

/** The pid in the runner's lock file: the live owner of the folder when a runner refused it. */
function readOwner(runDir: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(path.join(runDir, LOCK_FILE), 'utf8').trim());
    return pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
