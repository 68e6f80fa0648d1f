import { parentPort } from 'node:worker_threads';
import { OnnxRewardModel } from './rewardModel';
import type { ScoreSample } from '../shared/vocabulary';

/** Messages between the extension host and the reward-model thread (dist/rewardModelWorker.js). */
export type ToRewardModels = { type: 'score'; id: number; dir: string; samples: ScoreSample[] } | { type: 'release'; dir: string };
export type FromRewardModels =
  { type: 'scored'; id: number; values: number[] } | { type: 'failed'; id: number; name: string; message: string };

// Loading a reward model and running it are synchronous inside onnxruntime-node, and tokenizing is
// JavaScript: on this thread neither holds up the extension host.
if (parentPort) {
  const port = parentPort;
  const models = new Map<string, Promise<OnnxRewardModel>>();
  const load = (dir: string) => {
    let model = models.get(dir);
    if (!model) {
      model = OnnxRewardModel.load(dir);
      models.set(dir, model);
      // A failed load is tried again next time: the user may fix the folder.
      model.catch(() => models.delete(dir));
    }
    return model;
  };
  port.on('message', (message: ToRewardModels) => {
    if (message.type === 'release') {
      const model = models.get(message.dir);
      models.delete(message.dir);
      void model?.then(
        (m) => m.release(),
        () => undefined,
      );
      return;
    }
    const { id } = message;
    load(message.dir)
      .then((model) => model.score(message.samples))
      .then(
        (values) => port.postMessage({ type: 'scored', id, values } satisfies FromRewardModels),
        (error: unknown) =>
          port.postMessage({
            type: 'failed',
            id,
            name: (error as Error).name ?? 'Error',
            message: (error as Error).message ?? String(error),
          } satisfies FromRewardModels),
      );
  });
}
