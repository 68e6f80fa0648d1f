import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ModelReward } from './engine';
import type { FromRewardModels, ToRewardModels } from './rewardModelWorker';
import type { ScoreSample } from '../shared/vocabulary';

/**
 * ONNX reward models for the previews, loaded and run on one worker thread of the extension host
 * (started on first use, started again after a crash).
 */
export class RewardModelThread {
  private worker?: Worker;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve(values: number[]): void; reject(error: Error): void }>();
  private readonly loaded = new Set<string>();

  constructor(private readonly distPath: string) {}

  /** A preview reward scored by the model in `dir`. */
  reward(dir: string): ModelReward {
    return { name: path.basename(dir), model: { score: (samples) => this.score(dir, samples) } };
  }

  /** Frees every loaded model (settings changed: the folders may have too). */
  releaseAll(): void {
    for (const dir of this.loaded) this.post({ type: 'release', dir });
    this.loaded.clear();
  }

  private score(dir: string, samples: ScoreSample[]): Promise<number[]> {
    const id = this.nextId++;
    this.loaded.add(dir);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.post({ type: 'score', id, dir, samples });
    });
  }

  private post(message: ToRewardModels): void {
    this.ensureWorker().postMessage(message);
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(path.join(this.distPath, 'rewardModelWorker.js'));
    worker.on('message', (message: FromRewardModels) => {
      const waiting = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.type === 'scored') waiting?.resolve(message.values);
      else waiting?.reject(Object.assign(new Error(message.message), { name: message.name }));
    });
    const fail = (error: Error) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.loaded.clear();
      for (const waiting of this.pending.values()) waiting.reject(error);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the reward model thread exited (${code})`)));
    this.worker = worker;
    return worker;
  }

  dispose(): void {
    const worker = this.worker;
    this.worker = undefined;
    void worker?.terminate();
  }
}
