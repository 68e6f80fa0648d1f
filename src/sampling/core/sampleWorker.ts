import { parentPort } from 'node:worker_threads';
import { GenerationCancelled } from './causalLm';
import { runSampleJob, type SampleJob, type SampleProgress, type SampleSummary } from './sampleJob';

/** Messages between the extension host and the sampling thread (dist/sampleWorker.js). */
export type ToSampler = { type: 'start'; job: SampleJob } | { type: 'cancel' };
export type FromSampler =
  | { type: 'progress'; progress: SampleProgress }
  | { type: 'done'; summary: SampleSummary }
  | { type: 'error'; message: string; cancelled: boolean };

// Tokenizing, sampling over the vocabulary and copying caches are JavaScript work: on this thread
// they never hold up the extension host.
if (parentPort) {
  const port = parentPort;
  const controller = new AbortController();
  const post = (message: FromSampler) => port.postMessage(message);
  port.on('message', (message: ToSampler) => {
    if (message.type === 'cancel') {
      controller.abort();
      return;
    }
    runSampleJob(message.job, (progress) => post({ type: 'progress', progress }), controller.signal).then(
      (summary) => post({ type: 'done', summary }),
      (error: unknown) =>
        post({ type: 'error', message: (error as Error).message ?? String(error), cancelled: error instanceof GenerationCancelled }),
    );
  });
}
