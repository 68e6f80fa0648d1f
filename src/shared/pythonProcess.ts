import { spawn } from 'node:child_process';

/**
 * How the extension runs one of the scripts it ships in python/ to the end (the dry run, the
 * generator, the ONNX exporter): no shell, UTF-8 both ways, stderr read line by line for progress,
 * and a failure explained by the script's own `error: ...` line, else by the end of its traceback.
 */

export interface PythonScriptRun {
  python: string;
  args: string[];
  cwd: string;
  /** Each complete stderr line, as it comes (the scripts' progress lines). */
  onLine?: (line: string) => void;
  /** Everything the script prints, for an output channel. */
  onOutput?: (text: string) => void;
  /** Aborting stops the script (SIGTERM); the promise then rejects with a cancelled PythonScriptError. */
  signal?: AbortSignal;
}

/** Why a script gave no result: its `error:` line, the end of its traceback, or cancelled. */
export class PythonScriptError extends Error {
  constructor(
    message: string,
    readonly cancelled = false,
  ) {
    super(message);
    this.name = 'PythonScriptError';
  }
}

export function runPythonScript(run: PythonScriptRun): Promise<void> {
  const child = spawn(run.python, run.args, {
    cwd: run.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PYTHONUNBUFFERED: '1', PYTHONIOENCODING: 'utf-8', TOKENIZERS_PARALLELISM: 'false' },
  });
  const abort = () => child.kill('SIGTERM');
  if (run.signal?.aborted) abort();
  run.signal?.addEventListener('abort', abort);
  let stderr = '';
  let pending = '';
  child.stdout.on('data', (chunk: Buffer) => run.onOutput?.(chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    run.onOutput?.(text);
    stderr = (stderr + text).slice(-20000);
    const lines = (pending + text).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) run.onLine?.(line.replace(/\r$/, ''));
  });
  return new Promise<void>((resolve, reject) => {
    child.on('error', (error) => reject(new PythonScriptError(`cannot start ${run.python}: ${error.message}`)));
    child.on('close', (code, signal) => {
      if (run.signal?.aborted) reject(new PythonScriptError('cancelled', true));
      else if (code === 0) resolve();
      else reject(new PythonScriptError(failureOf(stderr, code, signal)));
    });
  }).finally(() => run.signal?.removeEventListener('abort', abort));
}

function failureOf(stderr: string, code: number | null, signal: NodeJS.Signals | null): string {
  const lines = stderr.trimEnd().split('\n');
  const cause = lines.filter((line) => line.startsWith('error: ')).at(-1);
  if (cause) return cause.slice('error: '.length);
  if (signal) return `stopped by ${signal}`;
  return lines.slice(-12).join('\n') || `exit code ${code}`;
}
