import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { ScoreParams, ScoreResult, WorkerResponse } from './workerProtocol';

type RequestBody = { method: 'score'; params: ScoreParams } | { method: 'ping' };

export interface RewardWorkerOptions {
  /** The user's interpreter. */
  python: string;
  /** python/grpo_studio_worker.py */
  workerScript: string;
  cwd: string;
  /** Reward calls longer than this kill the worker (it restarts on the next request). */
  timeoutMs: number;
  /**
   * The limit for a score's set-up before its calls: loading the tokenizer, importing the reward
   * modules (which may import torch or load a model) and instantiating reward classes. At least
   * `timeoutMs`; by default two minutes.
   */
  setupTimeoutMs?: number;
  /** What reward functions print, for an output channel or the terminal. */
  onOutput?: (text: string) => void;
  env?: NodeJS.ProcessEnv;
}

/** Why a request got no answer: the worker timed out, died, or could not start. */
const STOPPED = 'the reward worker was stopped';

export class WorkerFault extends Error {
  constructor(
    readonly kind: 'timeout' | 'crash' | 'start',
    message: string,
  ) {
    super(message);
  }
}

const SETUP_TIMEOUT_MS = 120_000;

/** Output beyond this per request is dropped (with a note): a reward printing megabytes must not flood the editor. */
const MAX_OUTPUT_PER_REQUEST = 256 * 1024;

interface Pending {
  id: number;
  resolve: (result: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * A persistent Python process that imports the user's reward modules and calls them as
 * GRPOTrainer does. Requests go one at a time; a timeout or a crash ends the process, and the
 * next request starts a fresh one.
 */
export class RewardWorker {
  private child?: ChildProcess;
  private requests?: Writable;
  private pending?: Pending;
  private queue: Promise<unknown> = Promise.resolve();
  private nextId = 1;
  private outputBytes = 0;
  private truncated = false;
  private stderrTail = '';
  private disposed = false;

  constructor(private readonly options: RewardWorkerOptions) {}

  score(params: ScoreParams): Promise<ScoreResult> {
    return this.enqueue({ method: 'score', params }) as Promise<ScoreResult>;
  }

  ping(): Promise<{ pong: true; python: ScoreResult['python'] }> {
    return this.enqueue({ method: 'ping' }) as Promise<{ pong: true; python: ScoreResult['python'] }>;
  }

  /**
   * Ends the process and everything it started (a reward's `subprocess.Popen` included: they share
   * its process group), and lets go of its pipes, which such children may still hold open. A later
   * request starts a new one.
   */
  restart(): void {
    const child = this.child;
    this.detach();
    if (!child) return;
    killGroup(child);
    for (const stream of child.stdio) stream?.destroy();
  }

  /** Ends the worker for good: the request in flight and those queued fail at once, none starts it again. */
  dispose(): void {
    this.disposed = true;
    this.fail(new Error(STOPPED));
    this.restart();
  }

  private enqueue(request: RequestBody): Promise<unknown> {
    const run = () => this.send(request);
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private send(request: RequestBody): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (this.disposed) {
        reject(new Error(STOPPED));
        return;
      }
      try {
        this.ensureStarted();
      } catch (error) {
        reject(new WorkerFault('start', (error as Error).message));
        return;
      }
      const id = this.nextId++;
      this.outputBytes = 0;
      this.truncated = false;
      const timer =
        request.method === 'score'
          ? this.stopAfter(
              Math.max(this.options.setupTimeoutMs ?? SETUP_TIMEOUT_MS, this.options.timeoutMs),
              loadsTokenizer(request.params)
                ? ' while loading the tokenizer and importing the reward modules'
                : ' while importing the reward modules',
            )
          : this.stopAfter(this.options.timeoutMs);
      this.pending = { id, resolve, reject, timer };
      this.requests!.write(`${JSON.stringify({ id, ...request })}\n`);
    });
  }

  /** A timer that fails the request in flight and stops the worker after `ms`. */
  private stopAfter(ms: number, during = ''): NodeJS.Timeout {
    return setTimeout(() => {
      this.fail(new WorkerFault('timeout', `no answer within ${ms / 1000} s${during}; the reward worker was stopped and will restart`));
      this.restart();
    }, ms);
  }

  private ensureStarted(): void {
    if (this.child) return;
    const child = spawn(this.options.python, ['-u', this.options.workerScript], {
      cwd: this.options.cwd,
      // stdin: /dev/null; stdout/stderr: the user's prints; fd 3: requests; fd 4: responses.
      stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
      // A process group of its own (POSIX), so that a timeout or shutdown ends what rewards started.
      detached: process.platform !== 'win32',
      env: { ...process.env, ...this.options.env, PYTHONIOENCODING: 'utf-8', PYTHONUNBUFFERED: '1' },
    });
    this.child = child;
    this.stderrTail = '';
    this.requests = child.stdio[3] as Writable;
    this.requests.on('error', () => undefined); // a dead worker is reported through 'exit'
    child.stdout!.on('data', (chunk: Buffer) => this.forwardOutput(chunk));
    child.stderr!.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-2000);
      this.forwardOutput(chunk);
    });
    readLines(child.stdio[4] as Readable, (line) => this.onResponse(line));
    child.on('error', (error) => {
      if (this.child !== child) return;
      this.fail(new WorkerFault('start', `could not start ${this.options.python}: ${error.message}`));
      this.detach();
    });
    child.on('exit', (code, signal) => {
      if (this.child !== child) return;
      killGroup(child); // what the worker started dies with it
      const tail = this.stderrTail.trim().split('\n').slice(-5).join('\n');
      this.fail(
        new WorkerFault('crash', `the reward worker exited (${signal ?? `exit code ${code}`}) while scoring${tail ? `:\n${tail}` : ''}`),
      );
      this.detach();
    });
  }

  private forwardOutput(chunk: Buffer): void {
    if (!this.options.onOutput) return;
    const room = MAX_OUTPUT_PER_REQUEST - this.outputBytes;
    if (room > 0) this.options.onOutput(chunk.subarray(0, room).toString('utf8'));
    if (chunk.length > room && !this.truncated) {
      this.truncated = true;
      this.options.onOutput('\n[GRPO Studio: further output of this call not shown]\n');
    }
    this.outputBytes += chunk.length;
  }

  private onResponse(line: string): void {
    let response: WorkerResponse;
    try {
      response = JSON.parse(line) as WorkerResponse;
    } catch {
      return;
    }
    const pending = this.pending;
    if (!pending || response.id !== pending.id) return;
    clearTimeout(pending.timer);
    if ('loaded' in response) {
      pending.timer = this.stopAfter(this.options.timeoutMs);
      return;
    }
    this.pending = undefined;
    if ('error' in response) pending.reject(new Error(response.error.message));
    else pending.resolve(response.result);
  }

  private fail(error: Error): void {
    const pending = this.pending;
    if (!pending) return;
    clearTimeout(pending.timer);
    this.pending = undefined;
    pending.reject(error);
  }

  private detach(): void {
    this.child = undefined;
    this.requests = undefined;
  }
}

/** The worker loads a tokenizer only for completions that bring no sampled ids. */
function loadsTokenizer(params: ScoreParams): boolean {
  return !!params.tokenizer && params.samples.some((sample) => sample.completionIds === undefined);
}

function readLines(stream: Readable, onLine: (line: string) => void): void {
  let buffer = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffer += chunk;
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      onLine(buffer.slice(0, newline));
      buffer = buffer.slice(newline + 1);
    }
  });
  stream.on('error', () => undefined);
}

/** SIGKILL to the worker's process group (POSIX: it leads one), else to the worker alone. */
function killGroup(child: ChildProcess): void {
  try {
    if (process.platform !== 'win32' && child.pid) process.kill(-child.pid, 'SIGKILL');
    else child.kill('SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}
