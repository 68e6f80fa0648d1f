import * as fs from 'node:fs';
import { OnnxCausalLm } from './causalLm';
import { SeededRandom, type SamplingOptions } from './sampling';
import { readJsonLines, type LineProblem } from '../../shared/datasetReader';
import { type PromptValue, isPromptValue } from '../../shared/vocabulary';

/** One prompt to sample from, with the dataset columns that go along with it into the samples file. */
export interface PromptRecord {
  prompt: PromptValue;
  columns: Record<string, unknown>;
  /**
   * The columns as the prompts file wrote them (`"id":12345678901234567890,"x":1.0`), copied into
   * the output as they are: parsed and written again, a big integer would lose digits and 1.0
   * would become 1.
   */
  rawColumns?: string;
}

export interface PromptsFile {
  prompts: PromptRecord[];
  /** Lines left out. */
  problems: LineProblem[];
}

/**
 * Prompts from a JSON Lines file: one object per line with a `prompt` (a string or a message list)
 * and any other columns, every line a prompt. With `sampleSet`, the file is a sample set: each
 * group's prompt (adjacent lines with the same prompt) once, without its completions.
 */
export function parsePromptsJsonl(text: string, { sampleSet = false } = {}): PromptsFile {
  const { records, problems } = readJsonLines(text, { shape: 'a JSON object with a "prompt"' });
  const prompts: PromptRecord[] = [];
  let previous: string | undefined;
  for (const { line, text: raw, value } of records) {
    // The output line brings its own completion: a sample set's `completion`/`completions` (and
    // their token ids) would be scored in its place.
    const { prompt, completion: _completion, completions: _completions, completion_ids: _ids, ...columns } = value;
    if (!isPromptValue(prompt) || (Array.isArray(prompt) && prompt.length === 0)) {
      problems.push({ line, message: '"prompt" must be a string or a list of {"role", "content"} messages' });
      continue;
    }
    if (prompt === '') {
      problems.push({ line, message: '"prompt" is empty' });
      continue;
    }
    if (sampleSet) {
      const key = JSON.stringify(prompt);
      if (key === previous) continue;
      previous = key;
    }
    const rawColumns = topLevelMembers(raw)
      .filter(([key]) => key in columns)
      .map(([key, member]) => `${JSON.stringify(key)}:${member}`)
      .join(',');
    prompts.push({ prompt, columns, rawColumns });
  }
  problems.sort((a, b) => a.line - b.line);
  return { prompts, problems };
}

/** The members of a valid JSON object's text, each value as its source text. */
function topLevelMembers(text: string): [string, string][] {
  const members: [string, string][] = [];
  let i = text.indexOf('{') + 1;
  const skipSpace = () => {
    while (/\s/.test(text[i] ?? '')) i++;
  };
  /** From an opening quote to just past its closing one. */
  const skipString = () => {
    for (i++; text[i] !== '"'; i++) if (text[i] === '\\') i++;
    i++;
  };
  for (;;) {
    skipSpace();
    if (text[i] !== '"') return members;
    const keyStart = i;
    skipString();
    const key = JSON.parse(text.slice(keyStart, i)) as string;
    skipSpace();
    i++; // the colon
    skipSpace();
    const valueStart = i;
    let depth = 0;
    while (i < text.length && !(depth === 0 && (text[i] === ',' || text[i] === '}'))) {
      if (text[i] === '"') {
        skipString();
        continue;
      }
      if (text[i] === '{' || text[i] === '[') depth++;
      else if (text[i] === '}' || text[i] === ']') depth--;
      i++;
    }
    members.push([key, text.slice(valueStart, i).trim()]);
    if (text[i] === ',') i++;
  }
}

export interface SampleJob extends SamplingOptions {
  model: string;
  prompts: PromptRecord[];
  numGenerations: number;
  maxNewTokens: number;
  seed: number;
  /** The samples file written, group by group (a cancelled job leaves its finished groups; one that fails before the first, no file). */
  out: string;
  /** Each line also carries the completion's token ids, `"completion_ids"`, as TRL passes them to rewards. */
  withCompletionIds?: boolean;
  threads?: number;
}

export interface SampleProgress {
  /** Prompts done, of `total`. */
  done: number;
  total: number;
  /** New tokens in the group being generated. */
  tokens: number;
  /** The chat template is rendering this prompt (1-based; a watchdog limits how long that may take). */
  rendering?: number;
  /** When a group has just been written to the samples file: its completions' lengths, as in the summary. */
  written?: CompletionLength[];
}

/** A completion's length in tokens as TRL counts it (the EOS included), and whether it hit the limit. */
export interface CompletionLength {
  tokens: number;
  truncated: boolean;
}

export interface SampleSummary {
  groups: number;
  completions: number;
  newTokens: number;
  seconds: number;
  tokensPerSecond: number;
  /** From the start of the first prompt's forward pass to its first token. */
  timeToFirstTokenMs: number;
  usesKvCache: boolean;
  /** Per completion, in file order. */
  lengths: CompletionLength[];
}

/** What the model sees for a prompt, as TRL builds it: chat-templated message lists, raw strings. */
export function promptIds(lm: OnnxCausalLm, prompt: PromptValue): number[] {
  const text = typeof prompt === 'string' ? prompt : lm.tokenizer.applyChatTemplate(prompt, true);
  return lm.tokenizer.encode(text);
}

/** Rows decoded together: on a 2-core CPU, SmolLM2's tokens/s nearly doubles from 8 rows to 16, and stays from 16 to 32. */
const ROWS_PER_BATCH = 32;

/**
 * The prompts' indices in the batches they are sampled in: the first prompt alone, so its group is
 * written (and can be shown) as soon as possible, then as many prompts as fill ROWS_PER_BATCH rows.
 */
export function promptBatches(prompts: number, numGenerations: number): number[][] {
  const size = Math.max(1, Math.floor(ROWS_PER_BATCH / numGenerations));
  const batches = prompts > 0 ? [[0]] : [];
  for (let start = 1; start < prompts; start += size)
    batches.push(Array.from({ length: Math.min(size, prompts - start) }, (_, k) => start + k));
  return batches;
}

/**
 * Samples `numGenerations` completions per prompt and writes them as a samples JSON Lines file:
 * `{"prompt", "completion", ...columns}` per line, the prompt's lines together (a GRPO group), in
 * prompt order. A message-list prompt gets an assistant message as its completion, as in TRL's
 * conversational format.
 */
export async function runSampleJob(
  job: SampleJob,
  onProgress?: (progress: SampleProgress) => void,
  signal?: AbortSignal,
): Promise<SampleSummary> {
  const lm = await OnnxCausalLm.load(job.model, job.threads);
  const random = new SeededRandom(job.seed);
  const started = performance.now();
  let firstToken = 0;
  let newTokens = 0;
  const lengths: SampleSummary['lengths'] = [];
  try {
    for (const batch of promptBatches(job.prompts.length, job.numGenerations)) {
      const done = batch[0];
      const ids: number[][] = [];
      for (const index of batch) {
        onProgress?.({ done, total: job.prompts.length, tokens: 0, rendering: index + 1 });
        ids.push(promptIds(lm, job.prompts[index].prompt));
      }
      onProgress?.({ done, total: job.prompts.length, tokens: 0 }); // rendered: the watchdog stops
      const batchStart = performance.now();
      const generations = await lm.generateBatch(ids, {
        ...job,
        random,
        signal,
        onStep: (tokens) => {
          if (done === 0 && tokens === 1) firstToken = performance.now() - batchStart;
          onProgress?.({ done, total: job.prompts.length, tokens });
        },
      });
      for (const [k, index] of batch.entries()) {
        const record = job.prompts[index];
        const written: CompletionLength[] = [];
        const lines = generations[k].map((generation) => {
          const text = lm.tokenizer.decode(generation.ids);
          const completion = typeof record.prompt === 'string' ? text : [{ role: 'assistant', content: text }];
          // TRL's completion_ids: the sampled tokens up to and including the EOS that ended them.
          const ids = generation.eos === undefined ? generation.ids : [...generation.ids, generation.eos];
          newTokens += ids.length;
          written.push({ tokens: ids.length, truncated: generation.eos === undefined });
          const line =
            record.rawColumns === undefined
              ? JSON.stringify({ prompt: record.prompt, completion, ...record.columns })
              : `${JSON.stringify({ prompt: record.prompt, completion }).slice(0, -1)}${record.rawColumns ? `,${record.rawColumns}` : ''}}`;
          // Last, so that a dataset column of that name (TRL leaves it out of the rewards' columns) does not stand in for them.
          return job.withCompletionIds ? `${line.slice(0, -1)},"completion_ids":${JSON.stringify(ids)}}` : line;
        });
        // The file is started by the first finished group: a job that fails before leaves none.
        (index === 0 ? fs.writeFileSync : fs.appendFileSync)(job.out, `${lines.join('\n')}\n`);
        lengths.push(...written);
        onProgress?.({ done: index + 1, total: job.prompts.length, tokens: 0, written });
      }
    }
  } finally {
    await lm.release();
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    groups: job.prompts.length,
    completions: job.prompts.length * job.numGenerations,
    newTokens,
    seconds,
    tokensPerSecond: newTokens / seconds,
    timeToFirstTokenMs: firstToken,
    usesKvCache: lm.usesKvCache,
    lengths,
  };
}
