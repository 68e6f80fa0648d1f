// Discovery benchmark: cold scans, single-file re-checks and the rg floor, measured side by side.
// Run through `npm run bench` (scripts/bench.mjs builds this file and passes the trees to scan).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadPythonParser, parsePython } from '../src/discovery/core/parser';
import { summarizeModule } from '../src/discovery/core/pythonModule';
import { RewardIndex } from '../src/discovery/core/rewardIndex';
import { walkSourceFiles } from '../src/discovery/core/sourceFiles';
import { detectTrlProfile } from '../src/discovery/core/trlProfile';

const english = { t: (m: string, ...a: Array<string | number>) => m.replace(/\{(\d+)\}/g, (_, i) => String(a[Number(i)])) };

interface Args {
  mode: 'cold' | 'recheck' | 'notebook' | 'detect';
  wasmDir: string;
  roots: string[];
  /** For `recheck`: `typical` edits the median-sized reward file, `largest` the biggest one. */
  pick?: 'typical' | 'largest';
  /** For `recheck`: type in a function's body, or on a new line before the function. */
  where?: 'inside' | 'between';
}

async function cold({ wasmDir, roots }: Args): Promise<void> {
  const started = performance.now();
  const index = new RewardIndex({
    roots,
    parser: await loadPythonParser(wasmDir),
    l10n: english,
    format: 'auto',
    byShape: true,
    maxFileBytes: 1024 * 1024,
  });
  index.scan();
  const report = index.report();
  const ms = performance.now() - started;
  const files = walkSourceFiles(roots).filter((f) => f.kind === 'python').length;
  process.stdout.write(JSON.stringify({ ms, files, rewards: report.rewards.length, rssMb: process.memoryUsage().rss / 2 ** 20 }));
}

async function recheck({ wasmDir, roots, pick, where }: Args): Promise<void> {
  const index = new RewardIndex({
    roots,
    parser: await loadPythonParser(wasmDir),
    l10n: english,
    format: 'auto',
    byShape: true,
    maxFileBytes: 1024 * 1024,
  });
  index.scan();
  index.report();
  // Edit a file that defines or wires rewards, as a user typing in it would.
  const candidates = index
    .report()
    .rewards.map((r) => r.file)
    .filter((f) => f.endsWith('.py'));
  const bySize = [...new Set(candidates)].sort((a, b) => fs.statSync(b).size - fs.statSync(a).size);
  const file = pick === 'largest' ? bySize[0] : bySize[Math.floor(bySize.length / 2)];
  const original = fs.readFileSync(file, 'utf8');
  // A line typed in the middle of the file, then taken out again (every other edit moves the lower
  // half): in the body of the function there, or on a new line before that function.
  const lines = original.split('\n');
  const middle = Math.floor(lines.length / 2);
  const def = lines.findIndex((line, i) => i >= middle && /^\s*(async\s+)?def\s/.test(line));
  const body = def + 1 + lines.slice(def + 1).findIndex((line) => /\S/.test(line) && !/^\s*("|'|#)/.test(line));
  const at = where === 'between' ? def : body;
  const indent = /^\s*/.exec(lines[at])![0];
  const times: number[] = [];
  for (let i = 0; i < 200; i++) {
    const text = i % 2 === 0 ? [...lines.slice(0, at), `${indent}# edit ${i}`, ...lines.slice(at)].join('\n') : original;
    const t0 = performance.now();
    index.update(file, text);
    index.report();
    times.push(performance.now() - t0);
  }
  // Side by side: what the same edits cost a fresh parse and summary of the whole file alone.
  const parser = await loadPythonParser(wasmDir);
  const whole: number[] = [];
  for (let i = 0; i < 40; i++) {
    const text = i % 2 === 0 ? [...lines.slice(0, at), `${indent}# edit ${i}`, ...lines.slice(at)].join('\n') : original;
    const t0 = performance.now();
    const tree = parsePython(parser, text);
    summarizeModule(tree);
    tree.delete();
    whole.push(performance.now() - t0);
  }
  const p = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];
  process.stdout.write(
    JSON.stringify({
      file,
      line: at + 1,
      bytes: Buffer.byteLength(original),
      p50: p(times, 0.5),
      p95: p(times, 0.95),
      max: p(times, 1),
      wholeP50: p(whole, 0.5),
    }),
  );
}

/**
 * A Unsloth-style GRPO notebook of `cells` cells: install magics, markdown, data preparation, a
 * reward function in every fifth cell, the trainer at the end.
 */
function notebookJson(cells: number, edit = ''): string {
  const cell = (i: number) => {
    if (i === 0) return { cell_type: 'code', source: ['%%capture\n', '!pip install unsloth "trl==0.22.2" vllm\n'] };
    if (i === cells - 1)
      return {
        cell_type: 'code',
        source: [
          'from trl import GRPOConfig, GRPOTrainer\n',
          `trainer = GRPOTrainer(model=model, reward_funcs=[${Array.from({ length: Math.floor(cells / 5) }, (_, k) => `reward_${k}`).join(', ')}], args=GRPOConfig(output_dir="out"), train_dataset=dataset)\n`,
          'trainer.train()\n',
        ],
      };
    if (i % 5 === 1) return { cell_type: 'markdown', source: [`## Step ${i}\n`, 'Some explanation of the reward below.\n'] };
    if (i % 5 === 2)
      return {
        cell_type: 'code',
        source: [
          'import re\n',
          `def reward_${Math.floor(i / 5)}(completions, answer, **kwargs):\n`,
          '    responses = [completion[0]["content"] for completion in completions]\n',
          `    extracted = [re.search(r"<answer>(.*?)</answer>", r) for r in responses]\n`,
          '    return [2.0 if m and m.group(1) == a else 0.0 for m, a in zip(extracted, answer)]\n',
          ...(edit && i === 2 ? [edit] : []),
        ],
      };
    return {
      cell_type: 'code',
      source: [`x_${i} = [i * ${i} for i in range(10)]\n`, `print(len(x_${i}))\n`, `!nvidia-smi\n`],
    };
  };
  return JSON.stringify({
    cells: Array.from({ length: cells }, (_, i) => ({ ...cell(i), metadata: {}, outputs: [], execution_count: null })),
    metadata: { kernelspec: { name: 'python3' } },
    nbformat: 4,
    nbformat_minor: 5,
  });
}

/** A 200-cell notebook: the cold check of its folder, then 200 edits of one cell (the editor re-reads the notebook's cells). */
async function notebook({ wasmDir }: Args): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grpo-bench-notebook-'));
  const file = path.join(dir, 'GRPO.ipynb');
  fs.writeFileSync(file, notebookJson(200));
  const started = performance.now();
  const index = new RewardIndex({
    roots: [dir],
    parser: await loadPythonParser(wasmDir),
    l10n: english,
    format: 'auto',
    byShape: true,
    maxFileBytes: 4 << 20,
  });
  index.scan();
  const rewards = index.report().rewards.length;
  const coldMs = performance.now() - started;
  const times: number[] = [];
  for (let i = 0; i < 200; i++) {
    const text = notebookJson(200, `    # edit ${i}\n`);
    const t0 = performance.now();
    index.update(file, text);
    index.report();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  fs.rmSync(dir, { recursive: true, force: true });
  const p = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
  process.stdout.write(JSON.stringify({ coldMs, rewards, bytes: notebookJson(200).length, p50: p(0.5), p95: p(0.95) }));
}

/** What finding the TRL version costs: the installed package's metadata and the roots' pins, as activation does it. */
function detect({ roots }: Args): void {
  const times: number[] = [];
  let version = '';
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    version = detectTrlProfile({ python: process.env.BENCH_PYTHON, roots }).version;
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  process.stdout.write(JSON.stringify({ version, median: times[10], max: times[times.length - 1] }));
}

const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const modes = { cold, recheck, notebook, detect };
Promise.resolve(modes[args.mode](args)).catch((e) => {
  console.error(e);
  process.exit(1);
});
