import * as path from 'node:path';
import { ModelFolderError, readModelFolder, type ModelFolder } from '../shared/onnx/modelFolder';
import { onnxRuntime, openSession, type OnnxSession } from '../shared/onnx/runtime';
import type { ModelReward } from './engine';
import { TextTokenizer } from '../shared/onnx/tokenizer';
import type { PromptValue } from '../shared/vocabulary';
import { append } from '../shared/numbers';

export interface RewardModelInput {
  prompt: PromptValue;
  completion: PromptValue;
}

const BATCH = 8;

/**
 * A sequence-classification reward model exported to ONNX, scored as GRPOTrainer scores a model
 * in `reward_funcs`: prompt + completion as text (chat-templated when the prompt is a message
 * list), tokenized without special tokens, right-padded, and `logits[:, 0]`.
 */
export class OnnxRewardModel {
  private constructor(
    readonly folder: ModelFolder,
    readonly tokenizer: TextTokenizer,
    private readonly session: OnnxSession,
  ) {}

  static async load(dir: string): Promise<OnnxRewardModel> {
    const folder = readModelFolder(dir);
    const tokenizer = new TextTokenizer(folder);
    const session = await openSession(folder.onnxFile);
    if (!session.inputNames.includes('input_ids') || !session.outputNames.includes('logits')) {
      await session.release();
      throw new ModelFolderError(
        `${folder.onnxFile} is not a sequence-classification export: it needs input_ids and a logits output`,
        folder.onnxFile,
      );
    }
    return new OnnxRewardModel(folder, tokenizer, session);
  }

  /** The name TRL gives a model reward: the last part of its path. */
  get name(): string {
    return path.basename(this.folder.dir);
  }

  /** The text TRL feeds the reward model for one sample. */
  textOf(sample: RewardModelInput): string {
    if (Array.isArray(sample.prompt)) {
      const completion = Array.isArray(sample.completion) ? sample.completion : [{ role: 'assistant', content: sample.completion }];
      return this.tokenizer.applyChatTemplate([...sample.prompt, ...completion], false);
    }
    return sample.prompt + (typeof sample.completion === 'string' ? sample.completion : sample.completion.map((m) => m.content).join(''));
  }

  async score(samples: RewardModelInput[]): Promise<number[]> {
    const scores: number[] = [];
    for (let start = 0; start < samples.length; start += BATCH) {
      const ids = samples.slice(start, start + BATCH).map((s) => this.tokenizer.encode(this.textOf(s)));
      append(scores, await this.run(ids));
    }
    return scores;
  }

  private async run(batch: number[][]): Promise<number[]> {
    const ort = onnxRuntime();
    const width = Math.max(1, ...batch.map((ids) => ids.length));
    const inputIds = new BigInt64Array(batch.length * width).fill(BigInt(this.tokenizer.padId));
    const mask = new BigInt64Array(batch.length * width);
    batch.forEach((ids, row) =>
      ids.forEach((id, col) => {
        inputIds[row * width + col] = BigInt(id);
        mask[row * width + col] = 1n;
      }),
    );
    const feeds: Record<string, import('onnxruntime-node').Tensor> = {
      input_ids: new ort.Tensor('int64', inputIds, [batch.length, width]),
    };
    if (this.session.inputNames.includes('attention_mask')) feeds.attention_mask = new ort.Tensor('int64', mask, [batch.length, width]);
    // One sequence per row: the tokenizer's token_type_ids are all zeros (BERT-style classifiers).
    if (this.session.inputNames.includes('token_type_ids'))
      feeds.token_type_ids = new ort.Tensor('int64', new BigInt64Array(batch.length * width), [batch.length, width]);
    if (this.session.inputNames.includes('position_ids')) {
      feeds.position_ids = new ort.Tensor(
        'int64',
        BigInt64Array.from({ length: batch.length * width }, (_, i) => BigInt(i % width)),
        [batch.length, width],
      );
    }
    const logits = (await this.session.run(feeds)).logits;
    const labels = (logits.dims as number[])[1] ?? 1;
    const data = logits.data as Float32Array;
    return batch.map((_, row) => data[row * labels]);
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

/** A preview reward scored in this process (the CLI), the model loaded on first use. */
export function onnxModelReward(dir: string): ModelReward {
  let loading: Promise<OnnxRewardModel> | undefined;
  return {
    name: path.basename(path.resolve(dir)),
    model: { score: async (samples) => (await (loading ??= OnnxRewardModel.load(dir))).score(samples) },
  };
}
