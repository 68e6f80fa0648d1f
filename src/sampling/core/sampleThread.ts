import { Worker } from 'node:worker_threads';
import type { SampleJob, SampleProgress, SampleSummary } from './sampleJob';
import type { FromSampler, ToSampler } from './sampleWorker';

export interface SampleOutcome {
  summary?: SampleSummary;
  error?: string;
  cancelled?: boolean;
}

export interface SampleThreadOptions {
  onProgress?: (progress: SampleProgress) => void;
  signal?: AbortSignal;
  /** Longer rendering one prompt's chat template ends the thread (a template that loops forever). */
  renderTimeoutMs?: number;
  /** After a cancel, how long the thread may take to finish its step before it is ended. */
  cancelGraceMs?: number;
}

/**
 * Runs a sampling job on its own thread (dist/sampleWorker.js), for the editor and the CLI alike:
 * the caller's thread stays free, so a cancel (Ctrl+C, the notification's Cancel) always works,
 * even while synchronous code on the thread (a chat template, a long decode step) does not return.
 */
export function runSampleThread(workerFile: string, job: SampleJob, options: SampleThreadOptions = {}): Promise<SampleOutcome> {
  const { renderTimeoutMs = 10_000, cancelGraceMs = 2_000 } = options;
  if (options.signal?.aborted) return Promise.resolve({ cancelled: true, error: 'cancelled' });
  return new Promise((resolve) => {
    const worker = new Worker(workerFile);
    const send = (message: ToSampler) => worker.postMessage(message);
    let settled = false;
    let watchdog: NodeJS.Timeout | undefined;
    const finish = (outcome: SampleOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(watchdog);
      options.signal?.removeEventListener('abort', onAbort);
      void worker.terminate();
      resolve(outcome);
    };
    const onAbort = () => {
      send({ type: 'cancel' });
      clearTimeout(watchdog);
      watchdog = setTimeout(() => finish({ cancelled: true, error: 'cancelled' }), cancelGraceMs);
    };
    options.signal?.addEventListener('abort', onAbort);
    worker.on('message', (message: FromSampler) => {
      if (message.type === 'progress') {
        if (options.signal?.aborted) return;
        clearTimeout(watchdog);
        const { progress } = message;
        if (progress.rendering) {
          watchdog = setTimeout(
            () =>
              finish({
                error: `the chat template of ${job.model} did not finish rendering prompt ${progress.rendering} within ${renderTimeoutMs / 1000} s (a loop that never ends in its tokenizer_config.json chat_template?); sampling stopped`,
              }),
            renderTimeoutMs,
          );
        }
        options.onProgress?.(progress);
      } else if (message.type === 'done') finish({ summary: message.summary });
      else finish({ error: message.message, cancelled: message.cancelled });
    });
    worker.on('error', (error) => finish({ error: error.message }));
    worker.on('exit', (code) => finish({ error: `the sampling thread exited (${code})` }));
    send({ type: 'start', job });
  });
}
