import { ModelFolderError, readModelFolder, type ModelFolder } from '../../shared/onnx/modelFolder';
import { onnxRuntime, openSession, type OnnxSession } from '../../shared/onnx/runtime';
import { pickToken, type SamplingOptions, type SeededRandom } from './sampling';
import { TextTokenizer } from '../../shared/onnx/tokenizer';

type Tensor = import('onnxruntime-node').Tensor;

const PAST = /^past_key_values\.(\d+)\.(key|value)$/;

export interface GenerateOptions extends SamplingOptions {
  numGenerations: number;
  maxNewTokens: number;
  random: SeededRandom;
  /** Called after every decoding step with the number of new tokens so far. */
  onStep?: (tokens: number) => void;
  signal?: AbortSignal;
}

export interface Generation {
  /** New token ids, the end-of-sequence token left out. */
  ids: number[];
  /** True when the model ended it (EOS) rather than the token limit. */
  finished: boolean;
}

export class GenerationCancelled extends Error {
  constructor() {
    super('cancelled');
    this.name = 'GenerationCancelled';
  }
}

/**
 * A causal language model exported to ONNX (optimum / transformers.js layout), decoded with its
 * KV cache when the graph has `past_key_values.*` inputs, or by re-running the whole sequence when
 * it has none.
 */
export class OnnxCausalLm {
  private constructor(
    readonly folder: ModelFolder,
    readonly tokenizer: TextTokenizer,
    private readonly session: OnnxSession,
    private readonly pastInputs: string[],
    /** [heads, head dim] of each past input (keys and values may differ). */
    private readonly pastShapes: Map<string, [number, number]>,
  ) {}

  static async load(dir: string, threads?: number): Promise<OnnxCausalLm> {
    const folder = readModelFolder(dir);
    const tokenizer = new TextTokenizer(folder);
    const session = await openSession(folder.onnxFile, threads);
    try {
      const names = session.inputNames;
      if (!names.includes('input_ids') || !session.outputNames.includes('logits')) {
        throw new ModelFolderError(
          `${folder.onnxFile} is not a causal LM export: it needs an input_ids input and a logits output (it has ${names.join(', ')} → ${session.outputNames.join(', ')})`,
          folder.onnxFile,
        );
      }
      const pastInputs = names.filter((n) => PAST.test(n));
      const pastShapes = new Map<string, [number, number]>();
      for (const name of pastInputs) {
        const metadata = session.inputMetadata.find((m) => m.name === name);
        if (metadata?.isTensor && metadata.type !== 'float32') {
          throw new ModelFolderError(
            `${folder.onnxFile} keeps its KV cache in ${metadata.type}; GRPO Studio samples float32 exports (optimum-cli export onnx --dtype fp32)`,
            folder.onnxFile,
          );
        }
        pastShapes.set(name, pastShapeOf(folder, metadata?.isTensor ? metadata.shape : undefined));
      }
      return new OnnxCausalLm(folder, tokenizer, session, pastInputs, pastShapes);
    } catch (error) {
      await session.release();
      throw error;
    }
  }

  get usesKvCache(): boolean {
    return this.pastInputs.length > 0;
  }

  /** Draws `numGenerations` continuations of one prompt, as one batch. */
  async generate(promptIds: number[], options: GenerateOptions): Promise<Generation[]> {
    if (promptIds.length === 0) throw new Error('the prompt is empty after tokenization');
    const rows = options.numGenerations;
    const sequences: number[][] = Array.from({ length: rows }, () => []);
    const finished = new Array<boolean>(rows).fill(false);
    // The prompt is the same for every row: run it once, then copy its cache into each row.
    let out = await this.forward([promptIds], 0, undefined);
    if (out.logits.dims.length !== 3) {
      // A sequence classifier (a reward model) has logits too, one row of labels per sequence.
      throw new ModelFolderError(
        `${this.folder.onnxFile} is not a causal LM: its logits are [${out.logits.dims.join(', ')}], not [batch, tokens, vocabulary] (a reward model? those go in reward_funcs)`,
        this.folder.onnxFile,
      );
    }
    let past = this.usesKvCache ? this.tileCache(out, rows) : undefined;
    let logits = out.logits;
    for (let step = 0; step < options.maxNewTokens; step++) {
      if (options.signal?.aborted) throw new GenerationCancelled();
      const [batch, seq, vocab] = logits.dims as number[];
      const next: number[] = [];
      for (let r = 0; r < rows; r++) {
        const row = batch === 1 ? 0 : r; // the first step's logits are the shared prompt's
        const token = finished[r]
          ? this.tokenizer.padId
          : pickToken(logits.data as Float32Array, (row * seq + seq - 1) * vocab, vocab, options, options.random);
        if (!finished[r]) {
          if (this.tokenizer.eosIds.has(token)) finished[r] = true;
          else sequences[r].push(token);
        }
        next.push(token);
      }
      options.onStep?.(step + 1);
      if (finished.every(Boolean) || step + 1 === options.maxNewTokens) break;
      const length = promptIds.length + step + 1;
      if (past) {
        out = await this.forward(
          next.map((t) => [t]),
          length - 1,
          past,
        );
        past = this.cacheOf(out);
      } else {
        out = await this.forward(
          sequences.map((s) => [...promptIds, ...this.padTo(s, step + 1)]),
          0,
          undefined,
        );
      }
      logits = out.logits;
    }
    return sequences.map((ids, r) => ({ ids, finished: finished[r] }));
  }

  /** Without a cache every row must be as long as the others: ended rows carry pad tokens. */
  private padTo(ids: number[], length: number): number[] {
    return ids.length === length ? ids : [...ids, ...new Array<number>(length - ids.length).fill(this.tokenizer.padId)];
  }

  private async forward(tokens: number[][], pastLength: number, past: Record<string, Tensor> | undefined): Promise<Record<string, Tensor>> {
    const ort = onnxRuntime();
    const batch = tokens.length;
    const seq = tokens[0].length;
    const total = pastLength + seq;
    const feeds: Record<string, Tensor> = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from(tokens.flat(), BigInt), [batch, seq]),
    };
    const names = this.session.inputNames;
    if (names.includes('attention_mask'))
      feeds.attention_mask = new ort.Tensor('int64', new BigInt64Array(batch * total).fill(1n), [batch, total]);
    if (names.includes('position_ids')) {
      const positions = new BigInt64Array(batch * seq);
      for (let b = 0; b < batch; b++) for (let s = 0; s < seq; s++) positions[b * seq + s] = BigInt(pastLength + s);
      feeds.position_ids = new ort.Tensor('int64', positions, [batch, seq]);
    }
    if (names.includes('use_cache_branch')) feeds.use_cache_branch = new ort.Tensor('bool', [pastLength > 0], [1]);
    for (const name of this.pastInputs) {
      const [heads, headDim] = this.pastShapes.get(name)!;
      feeds[name] = past?.[name] ?? new ort.Tensor('float32', new Float32Array(0), [batch, heads, 0, headDim]);
    }
    return this.session.run(feeds);
  }

  private cacheOf(out: Record<string, Tensor>): Record<string, Tensor> {
    const cache: Record<string, Tensor> = {};
    for (const name of this.pastInputs) {
      const present = out[name.replace('past_key_values', 'present')];
      if (!present)
        throw new ModelFolderError(
          `${this.folder.onnxFile} has input ${name} but no output ${name.replace('past_key_values', 'present')}`,
          this.folder.onnxFile,
        );
      cache[name] = present;
    }
    return cache;
  }

  /** The prompt's cache (batch 1) repeated for each of `rows` generations. */
  private tileCache(out: Record<string, Tensor>, rows: number): Record<string, Tensor> {
    const ort = onnxRuntime();
    const cache = this.cacheOf(out);
    for (const [name, tensor] of Object.entries(cache)) {
      const data = tensor.data as Float32Array;
      const tiled = new Float32Array(data.length * rows);
      for (let r = 0; r < rows; r++) tiled.set(data, r * data.length);
      const [, ...rest] = tensor.dims as number[];
      cache[name] = new ort.Tensor('float32', tiled, [rows, ...rest]);
    }
    return cache;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

/** [heads, head dim] of a past input: from the graph when it says, else from config.json (Llama, Qwen, GPT-2 names). */
function pastShapeOf(folder: ModelFolder, shape: ReadonlyArray<number | string> | undefined): [number, number] {
  if (typeof shape?.[1] === 'number' && typeof shape[3] === 'number') return [shape[1], shape[3]];
  const config = (folder.config.text_config ?? folder.config) as Record<string, number>;
  const attentionHeads = config.num_attention_heads ?? config.n_head;
  const heads = config.num_key_value_heads ?? config.num_kv_heads ?? attentionHeads;
  const hidden = config.hidden_size ?? config.n_embd;
  const headDim = config.head_dim ?? (hidden && attentionHeads ? hidden / attentionHeads : undefined);
  if (!heads || !headDim) {
    throw new ModelFolderError(
      `${folder.dir}/config.json gives neither the attention heads (num_key_value_heads, num_attention_heads, n_head) nor the head size (head_dim, hidden_size, n_embd) that the KV cache needs`,
      `${folder.dir}/config.json`,
    );
  }
  return [heads, headDim];
}
