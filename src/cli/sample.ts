import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { parsePromptsJsonl, type SampleProgress } from '../sampling/core/sampleJob';
import { runSampleThread } from '../sampling/core/sampleThread';
import { numberOption, outputProblem } from './options';
import { readUtf8File } from '../shared/encoding';

/** `grpo-studio sample`: G completions per prompt from a local ONNX causal LM, as a samples file. */
export async function runSample(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' },
      prompts: { type: 'string' },
      'num-generations': { type: 'string' },
      'max-new-tokens': { type: 'string', default: '128' },
      temperature: { type: 'string', default: '1.0' },
      'top-p': { type: 'string', default: '1.0' },
      'top-k': { type: 'string', default: '0' },
      seed: { type: 'string', default: '42' },
      threads: { type: 'string' },
      out: { type: 'string' },
      force: { type: 'boolean', default: false },
    },
  });
  const usage = (message: string) => {
    process.stderr.write(`grpo-studio sample: ${message}\n`);
    return 2;
  };
  if (!values.model)
    return usage('--model DIR is required (an ONNX causal LM folder: config.json, tokenizer.json, tokenizer_config.json, onnx/model.onnx)');
  if (!values.prompts) return usage('--prompts FILE.jsonl is required');
  if (!values.out) return usage('--out FILE.jsonl is required');
  if (!values['num-generations']) return usage('--num-generations G is required');
  const integer = (text: string, min: number) => numberOption(text, { integer: true, min });
  const numGenerations = integer(values['num-generations'], 1);
  const maxNewTokens = integer(values['max-new-tokens'], 1);
  const topK = integer(values['top-k'], 0);
  const seed = integer(values.seed, 0);
  const threads = values.threads === undefined ? undefined : integer(values.threads, 1);
  const temperature = numberOption(values.temperature!, { min: 0 });
  const topP = numberOption(values['top-p']!, { above: 0, max: 1 });
  if (numGenerations === undefined) return usage('--num-generations must be a positive integer');
  if (maxNewTokens === undefined) return usage('--max-new-tokens must be a positive integer');
  if (topK === undefined) return usage('--top-k must be a non-negative integer (0 turns it off)');
  if (seed === undefined) return usage('--seed must be a non-negative integer');
  if (threads === undefined && values.threads !== undefined) return usage('--threads must be a positive integer');
  if (temperature === undefined) return usage('--temperature must be a number ≥ 0 (0 is greedy decoding)');
  if (topP === undefined) return usage('--top-p must be in (0, 1]');

  const promptsFile = path.resolve(values.prompts);
  if (!fs.existsSync(promptsFile)) return usage(`no such prompts file: ${values.prompts}`);
  if (!fs.statSync(promptsFile).isFile()) return usage(`--prompts ${values.prompts} is a folder; give a JSON Lines file`);
  const { prompts, problems } = parsePromptsJsonl(readUtf8File(promptsFile));
  for (const problem of problems) process.stderr.write(`${values.prompts}:${problem.line}: skipped: ${problem.message}\n`);
  if (prompts.length === 0) return usage(`no prompts in ${values.prompts} (one JSON object per line with a "prompt")`);

  const out = path.resolve(values.out);
  if (fs.existsSync(out) && fs.statSync(out).isDirectory())
    return usage(`--out ${values.out} is a folder; give a file name (e.g. ${path.join(values.out, 'sampled.samples.jsonl')})`);
  const outProblem = outputProblem('--out', values.out, { inputs: [{ option: '--prompts', path: promptsFile }], force: values.force });
  if (outProblem) return usage(outProblem);
  try {
    fs.mkdirSync(path.dirname(out), { recursive: true });
  } catch (error) {
    return usage(
      `cannot create the folder of --out ${values.out}: ${(error as NodeJS.ErrnoException).code === 'EEXIST' ? 'a file is in the way' : (error as Error).message}`,
    );
  }
  const progress = new ProgressBar(process.stderr);
  const controller = new AbortController();
  // The job runs on a thread of its own: Ctrl+C is always heard here, even while a chat template
  // or a decode step keeps that thread busy.
  const cancel = () => controller.abort();
  process.once('SIGINT', cancel);
  try {
    const outcome = await runSampleThread(
      path.join(__dirname, 'sampleWorker.js'),
      { model: values.model, prompts, numGenerations, maxNewTokens, temperature, topP, topK, seed, threads, out },
      { onProgress: (p) => progress.update(p), signal: controller.signal },
    );
    progress.finish();
    if (outcome.cancelled) {
      process.stderr.write(`grpo-studio sample: cancelled; the finished groups are in ${out}\n`);
      return 130;
    }
    if (!outcome.summary) {
      process.stderr.write(`grpo-studio sample: ${outcome.error}\n`);
      return 1;
    }
    const summary = outcome.summary;
    process.stderr.write(
      `${summary.completions} completions for ${summary.groups} prompt(s) in ${summary.seconds.toFixed(1)} s: ` +
        `${summary.tokensPerSecond.toFixed(1)} tokens/s, first token after ${summary.timeToFirstTokenMs.toFixed(0)} ms` +
        `${summary.usesKvCache ? '' : ' (the model has no KV cache: every step re-reads the whole sequence)'}\n`,
    );
    process.stdout.write(`${out}\n`);
    return 0;
  } finally {
    process.off('SIGINT', cancel);
  }
}

class ProgressBar {
  private last = '';

  constructor(private readonly out: NodeJS.WriteStream) {}

  update({ done, total, tokens }: SampleProgress): void {
    const width = 24;
    const filled = Math.round((done / total) * width);
    const text = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} prompts${tokens ? ` · ${tokens} tokens` : ''}`;
    if (this.out.isTTY) this.out.write(`\r${text}\x1b[K`);
    else if (tokens === 0 && text !== this.last) this.out.write(`${text}\n`);
    this.last = text;
  }

  finish(): void {
    if (this.out.isTTY && this.last) this.out.write('\n');
  }
}
