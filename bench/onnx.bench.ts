// ONNX sampler benchmark: GRPO Studio's onnxruntime-node sampler (OnnxCausalLm.generate, KV cache)
// against the same graph driven from Python onnxruntime (bench/onnx_reference_loop.py), and the memory
// of the process that hosts the sampling thread. Run through `npm run bench` (scripts/bench.mjs builds
// this file to out/bench/onnx.bench.js, builds the models and passes the arguments as JSON).
//
//   compare: {mode: 'compare', python, script, model, prompt, numGenerations, maxNewTokens, threads, runs}
//           -> {promptIds, pyPromptIds, ours: [run], py: [run], reference: [run], sameIds}
//           One session here (OnnxCausalLm.load, then greedy generate() calls, each timed like the
//           Python loop: from the prompt's forward pass to the last token) and one in a Python child
//           (bench/onnx_reference_loop.py --serve, the same loop), run alternately one generation at a
//           time, `runs` + 1 times (index 0: each session's first run, when onnxruntime allocates its
//           buffers); then a few runs of test/python/onnx_reference.py's own loop (the prompt in a
//           batch of G) for reference. Runs are {seconds, timeToFirstToken, tokens}.
//   memory: {mode: 'memory', dist, model, prompts: [text], numGenerations, maxNewTokens, temperature, seed}
//           -> {rssBeforeMb, rssAtFirstTokenMb, peakRssMb, hwmBeforeMb, hwmPeakMb, lines, summary}
//           This process plays the extension host: a worker_threads Worker on dist/sampleWorker.js,
//           sent {type: 'start', job} as the editor's GRPO: Sample Completions sends it.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { OnnxCausalLm } from '../src/sampling/core/causalLm';
import { SeededRandom } from '../src/sampling/core/sampling';
import type { SampleJob, SampleSummary } from '../src/sampling/core/sampleJob';

interface SamplerArgs {
  model: string;
  prompt: string;
  numGenerations: number;
  maxNewTokens: number;
  threads: number;
}

interface CompareArgs extends SamplerArgs {
  mode: 'compare';
  python: string;
  script: string;
  runs: number;
}

interface Run {
  seconds: number;
  timeToFirstToken: number;
  tokens: number;
}

interface MemoryArgs {
  mode: 'memory';
  dist: string;
  model: string;
  prompts: string[];
  numGenerations: number;
  maxNewTokens: number;
  temperature: number;
  seed: number;
}

/**
 * A copy of the model folder (the graph linked, not copied) whose generation_config.json names an
 * end-of-sequence id no token has: every row then runs to maxNewTokens, as `--eos-token-id -1` does
 * on the Python side, so both sides generate the same number of tokens.
 */
function withoutEos(folder: string): string {
  const model = path.resolve(folder);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grpo-onnx-bench-'));
  for (const name of fs.readdirSync(model)) {
    if (name === 'generation_config.json' || name === 'model.safetensors') continue;
    fs.symlinkSync(path.join(model, name), path.join(dir, name));
  }
  const generationFile = path.join(model, 'generation_config.json');
  const generation = fs.existsSync(generationFile) ? JSON.parse(fs.readFileSync(generationFile, 'utf8')) : {};
  fs.writeFileSync(path.join(dir, 'generation_config.json'), JSON.stringify({ ...generation, eos_token_id: -1 }));
  return dir;
}

/** A loaded sampler whose `once()` times one greedy generate() call, as the Python loop is timed. */
async function sampler(args: SamplerArgs) {
  const dir = withoutEos(args.model);
  const lm = await OnnxCausalLm.load(dir, args.threads);
  const promptIds = lm.tokenizer.encode(args.prompt);
  const once = async (): Promise<{ run: Run; ids: number[][] }> => {
    const started = performance.now();
    let first = 0;
    const generations = await lm.generate(promptIds, {
      numGenerations: args.numGenerations,
      maxNewTokens: args.maxNewTokens,
      temperature: 0,
      topP: 1,
      topK: 0,
      random: new SeededRandom(0),
      onStep: (tokens) => {
        if (tokens === 1) first = performance.now() - started;
      },
    });
    const seconds = (performance.now() - started) / 1000;
    return {
      run: { seconds, timeToFirstToken: first / 1000, tokens: generations.reduce((n, g) => n + g.ids.length, 0) },
      ids: generations.map((g) => g.ids),
    };
  };
  const close = async () => {
    await lm.release();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return { promptIds, once, close };
}

async function compare(args: CompareArgs): Promise<void> {
  const child = spawn(
    args.python,
    [
      args.script,
      '--serve',
      '--model',
      args.model,
      '--prompt',
      args.prompt,
      '--num-generations',
      String(args.numGenerations),
      '--max-new-tokens',
      String(args.maxNewTokens),
      '--threads',
      String(args.threads),
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const read = async () => {
    const { value, done } = await lines.next();
    if (done) throw new Error(`${args.script} --serve ended early`);
    return JSON.parse(value as string);
  };
  const python = async (loop: 'tiled' | 'reference'): Promise<{ run: Run; ids: number[][] }> => {
    child.stdin!.write(`${loop}\n`);
    const answer = await read();
    return {
      run: { seconds: answer.seconds, timeToFirstToken: answer.time_to_first_token, tokens: answer.tokens },
      ids: answer.completion_ids,
    };
  };
  const { prompt_ids: pyPromptIds } = await read();
  const { promptIds, once, close } = await sampler(args);
  try {
    const ours: Run[] = [];
    const py: Run[] = [];
    let sameIds = true;
    for (let i = 0; i <= args.runs; i++) {
      // Alternate which side goes first; the pauses let the other side's idle onnxruntime threads stop spinning.
      const [a, b] = i % 2 === 0 ? [once, () => python('tiled')] : [() => python('tiled'), once];
      const first = await a();
      await sleep(20);
      const second = await b();
      await sleep(20);
      const [mine, theirs] = i % 2 === 0 ? [first, second] : [second, first];
      ours.push(mine.run);
      py.push(theirs.run);
      sameIds &&= JSON.stringify(mine.ids) === JSON.stringify(theirs.ids);
    }
    const reference: Run[] = [];
    for (let i = 0; i <= Math.max(2, Math.floor(args.runs / 4)); i++) reference.push((await python('reference')).run);
    process.stdout.write(JSON.stringify({ promptIds, pyPromptIds, ours, py, reference: reference.slice(1), sameIds }));
  } finally {
    child.stdin!.end('quit\n');
    await close();
  }
}

/** VmRSS / VmHWM of this process in MB (Linux), or undefined elsewhere. */
function procStatus(field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync('/proc/self/status', 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

async function memory(args: MemoryArgs): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grpo-onnx-bench-mem-'));
  try {
    const job: SampleJob = {
      model: args.model,
      prompts: args.prompts.map((prompt) => ({ prompt, columns: {} })),
      numGenerations: args.numGenerations,
      maxNewTokens: args.maxNewTokens,
      temperature: args.temperature,
      topP: 1,
      topK: 0,
      seed: args.seed,
      out: path.join(dir, 'out.samples.jsonl'),
      // No `threads`: the editor leaves onnxruntime's default.
    };
    const rssBeforeMb = process.memoryUsage().rss / 2 ** 20;
    const hwmBeforeMb = procStatus('VmHWM');
    let peakRssMb = rssBeforeMb;
    let rssAtFirstTokenMb: number | undefined;
    const poll = setInterval(() => {
      peakRssMb = Math.max(peakRssMb, process.memoryUsage().rss / 2 ** 20);
    }, 5);
    const summary = await new Promise<SampleSummary>((resolve, reject) => {
      const worker = new Worker(path.join(args.dist, 'sampleWorker.js'));
      worker.on('message', (message: { type: string; summary?: SampleSummary; message?: string }) => {
        // The first progress message comes after the first token: runtime and model loaded, cache allocated.
        if (message.type === 'progress') rssAtFirstTokenMb ??= process.memoryUsage().rss / 2 ** 20;
        if (message.type === 'done') {
          peakRssMb = Math.max(peakRssMb, process.memoryUsage().rss / 2 ** 20);
          void worker.terminate();
          resolve(message.summary!);
        } else if (message.type === 'error') {
          void worker.terminate();
          reject(new Error(message.message));
        }
      });
      worker.on('error', reject);
      worker.postMessage({ type: 'start', job });
    });
    clearInterval(poll);
    const hwmPeakMb = procStatus('VmHWM');
    const lines = fs.readFileSync(job.out, 'utf8').trim().split('\n').length;
    process.stdout.write(JSON.stringify({ rssBeforeMb, rssAtFirstTokenMb, peakRssMb, hwmBeforeMb, hwmPeakMb, lines, summary }));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const args = JSON.parse(process.argv[2] ?? '{}') as CompareArgs | MemoryArgs;
(args.mode === 'memory' ? memory(args) : compare(args)).catch((e) => {
  console.error(e);
  process.exit(1);
});
