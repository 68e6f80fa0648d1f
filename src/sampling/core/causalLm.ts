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
  /** The end-of-sequence token the model ended it with; undefined when it reached the token limit. */
  eos?: number;
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
    return (await this.generateBatch([promptIds], options))[0];
  }

  /**
   * Draws `numGenerations` continuations of each prompt. With a KV cache all of them decode as one
   * batch: each prompt runs once, its cache is copied into its rows, left-padded to the longest
   * prompt (masked out by the attention mask, each row keeping its own positions).
   */
  async generateBatch(prompts: number[][], options: GenerateOptions): Promise<Generation[][]> {
    if (prompts.some((ids) => ids.length === 0)) throw new Error('the prompt is empty after tokenization');
    const names = this.session.inputNames;
    const padded = new Set(prompts.map((ids) => ids.length)).size > 1;
    // Left padding needs both the mask (it hides the pad positions) and position ids (each row keeps its own).
    const canPad = names.includes('attention_mask') && names.includes('position_ids');
    if (!this.usesKvCache || (padded && !canPad)) {
      const generations: Generation[][] = [];
      for (const ids of prompts)
        generations.push(this.usesKvCache ? await this.generate(ids, options) : await this.generateWithoutCache(ids, options));
      return generations;
    }
    const perPrompt = options.numGenerations;
    const rows = prompts.length * perPrompt;
    const promptOf = (r: number) => Math.floor(r / perPrompt);
    const longest = Math.max(...prompts.map((ids) => ids.length));
    const sequences: number[][] = Array.from({ length: rows }, () => []);
    const ends = new Array<number | undefined>(rows).fill(undefined);
    const prefills: Record<string, Tensor>[] = [];
    for (const ids of prompts) prefills.push(this.checkedLogits(await this.forward([ids], 0, undefined)));
    let past = this.tileCaches(prefills, prompts, perPrompt, longest);
    /** Row r's logits at its last position: the prompt's own for the first token, then the batch's. */
    let logitsOf = (r: number) => lastLogits(prefills[promptOf(r)].logits, 0);
    for (let step = 0; step < options.maxNewTokens; step++) {
      if (options.signal?.aborted) throw new GenerationCancelled();
      const next = this.pickStep(sequences, ends, logitsOf, options);
      options.onStep?.(step + 1);
      if (ends.every((end) => end !== undefined) || step + 1 === options.maxNewTokens) break;
      const out = await this.forward(
        next.map((t) => [t]),
        longest + step,
        past,
        (r) => longest - prompts[promptOf(r)].length,
      );
      past = this.cacheOf(out);
      logitsOf = (r) => lastLogits(out.logits, r);
    }
    return prompts.map((_, p) =>
      sequences.slice(p * perPrompt, (p + 1) * perPrompt).map((ids, g) => ({ ids, eos: ends[p * perPrompt + g] })),
    );
  }

  /** Without a cache the whole sequence runs again at every step. */
  private async generateWithoutCache(promptIds: number[], options: GenerateOptions): Promise<Generation[]> {
    const rows = options.numGenerations;
    const sequences: number[][] = Array.from({ length: rows }, () => []);
    const ends = new Array<number | undefined>(rows).fill(undefined);
    let logits = this.checkedLogits(await this.forward([promptIds], 0, undefined)).logits;
    for (let step = 0; step < options.maxNewTokens; step++) {
      if (options.signal?.aborted) throw new GenerationCancelled();
      // The first step's logits are the shared prompt's.
      this.pickStep(sequences, ends, (r) => lastLogits(logits, logits.dims[0] === 1 ? 0 : r), options);
      options.onStep?.(step + 1);
      if (ends.every((end) => end !== undefined) || step + 1 === options.maxNewTokens) break;
      logits = (
        await this.forward(
          sequences.map((s) => [...promptIds, ...this.padTo(s, step + 1)]),
          0,
          undefined,
        )
      ).logits;
    }
    return sequences.map((ids, r) => ({ ids, eos: ends[r] }));
  }

  /** One decoding step: each unfinished row draws from its logits (an EOS ends it), ended rows get the pad token. */
  private pickStep(
    sequences: number[][],
    ends: (number | undefined)[],
    logitsOf: (row: number) => [Float32Array, number, number],
    options: GenerateOptions,
  ): number[] {
    return sequences.map((sequence, r) => {
      if (ends[r] !== undefined) return this.tokenizer.padId;
      const token = pickToken(...logitsOf(r), options, options.random);
      if (this.tokenizer.eosIds.has(token)) ends[r] = token;
      else sequence.push(token);
      return token;
    });
  }

  /** A sequence classifier (a reward model) has logits too, one row of labels per sequence. */
  private checkedLogits(out: Record<string, Tensor>): Record<string, Tensor> {
    if (out.logits.dims.length !== 3) {
      throw new ModelFolderError(
        `${this.folder.onnxFile} is not a causal LM: its logits are [${out.logits.dims.join(', ')}], not [batch, tokens, vocabulary] (a reward model? those go in reward_funcs)`,
        this.folder.onnxFile,
      );
    }
    return out;
  }

  /** Without a cache every row must be as long as the others: ended rows carry pad tokens. */
  private padTo(ids: number[], length: number): number[] {
    return ids.length === length ? ids : [...ids, ...new Array<number>(length - ids.length).fill(this.tokenizer.padId)];
  }

  /** `padding(b)`: how many of row b's first cache positions are left padding, masked out and not counted in its positions. */
  private async forward(
    tokens: number[][],
    pastLength: number,
    past: Record<string, Tensor> | undefined,
    padding: (b: number) => number = () => 0,
  ): Promise<Record<string, Tensor>> {
    const ort = onnxRuntime();
    const batch = tokens.length;
    const seq = tokens[0].length;
    const total = pastLength + seq;
    const feeds: Record<string, Tensor> = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from(tokens.flat(), BigInt), [batch, seq]),
    };
    const names = this.session.inputNames;
    if (names.includes('attention_mask')) {
      const mask = new BigInt64Array(batch * total).fill(1n);
      for (let b = 0; b < batch; b++) mask.fill(0n, b * total, b * total + padding(b));
      feeds.attention_mask = new ort.Tensor('int64', mask, [batch, total]);
    }
    if (names.includes('position_ids')) {
      const positions = new BigInt64Array(batch * seq);
      for (let b = 0; b < batch; b++) for (let s = 0; s < seq; s++) positions[b * seq + s] = BigInt(pastLength - padding(b) + s);
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

  /** Each prompt's cache (batch 1) repeated for its `perPrompt` rows, left-padded with zeros to `longest` positions. */
  private tileCaches(prefills: Record<string, Tensor>[], prompts: number[][], perPrompt: number, longest: number): Record<string, Tensor> {
    const ort = onnxRuntime();
    const caches = prefills.map((out) => this.cacheOf(out));
    const tiled: Record<string, Tensor> = {};
    for (const name of this.pastInputs) {
      const [, heads, , headDim] = caches[0][name].dims as number[];
      const rowSize = heads * longest * headDim;
      const data = new Float32Array(rowSize * prompts.length * perPrompt);
      prompts.forEach((ids, p) => {
        const dims = caches[p][name].dims as number[];
        if (dims[0] !== 1 || dims[1] !== heads || dims[2] !== ids.length || dims[3] !== headDim) {
          throw new ModelFolderError(
            `${this.folder.onnxFile}: ${name.replace('past_key_values', 'present')} after a ${ids.length}-token prompt is [${dims.join(', ')}], not [1, heads, ${ids.length}, head size]; the sampler cannot batch this export`,
            this.folder.onnxFile,
          );
        }
        const source = caches[p][name].data as Float32Array;
        const offset = (longest - ids.length) * headDim;
        for (let g = 0; g < perPrompt; g++) {
          const row = (p * perPrompt + g) * rowSize;
          for (let h = 0; h < heads; h++) {
            data.set(source.subarray(h * ids.length * headDim, (h + 1) * ids.length * headDim), row + h * longest * headDim + offset);
          }
        }
      });
      tiled[name] = new ort.Tensor('float32', data, [prompts.length * perPrompt, heads, longest, headDim]);
    }
    return tiled;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

/** The logits row at `row`'s last position, as pickToken takes it: [data, offset, vocabulary size]. */
function lastLogits(logits: Tensor, row: number): [Float32Array, number, number] {
  const [, seq, vocab] = logits.dims as number[];
  return [logits.data as Float32Array, (row * seq + seq - 1) * vocab, vocab];
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
