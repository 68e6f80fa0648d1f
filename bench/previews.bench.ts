// Reward preview benchmark: the warm worker against in-process Python and a cold `python -c`,
// measured side by side. Run through `npm run bench` (scripts/bench.mjs passes the interpreter).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadPythonParser } from '../src/discovery/core/parser';
import { scoreSamples } from '../src/scoring/engine';
import { RewardWorker } from '../src/scoring/rewardWorker';
import type { SampleSet } from '../src/scoring/samples';

const REWARDS = `import math

import emoji
import numpy as np


def emoji_reward(completions, **kwargs):
    return [float(min(emoji.emoji_count(c), 4)) for c in completions]


def length_reward(completions, **kwargs):
    lengths = np.array([len(c) for c in completions], dtype=np.float64)
    return np.exp(-0.15 * np.abs(lengths - 30)).tolist()
`;

const COMPLETIONS = [
  '東京です🗼',
  '富士山は3776mです🗻✨',
  'だいたい4月です🌸🌸🌸🌸🌸',
  '地域によりますが、東京では例年3月下旬に開花します。',
];

function sampleSet(n: number): SampleSet {
  const samples = Array.from({ length: n }, (_, i) => ({
    line: i + 1,
    group: Math.floor(i / 8),
    prompt: `質問 ${Math.floor(i / 8)}`,
    completion: `${COMPLETIONS[i % 4]}${i}`,
    columns: {},
  }));
  const groups = Array.from({ length: Math.ceil(n / 8) }, (_, g) => ({ index: g, start: g * 8, size: Math.min(8, n - g * 8) }));
  return { samples, groups, problems: [] };
}

/** The same functions over the same completions in one Python process, timed inside it. */
function inProcessMs(python: string, dir: string, n: number, repeats: number): number {
  const script = `
import json, sys, time
sys.path.insert(0, ${JSON.stringify(dir)})
import rewards
completions = json.loads(sys.stdin.read())
best = float("inf")
for _ in range(${repeats}):
    t = time.perf_counter()
    for f in (rewards.emoji_reward, rewards.length_reward):
        f(prompts=["p"] * len(completions), completions=completions, completion_ids=[[0]] * len(completions))
    best = min(best, time.perf_counter() - t)
print(best * 1000)
`;
  const completions = sampleSet(n).samples.map((s) => s.completion);
  return Number(execFileSync(python, ['-c', script], { input: JSON.stringify(completions), encoding: 'utf8' }).trim());
}

function coldPythonMs(python: string, dir: string, runs: number): number {
  const script = `import sys; sys.path.insert(0, ${JSON.stringify(dir)}); import rewards; c = ${JSON.stringify(sampleSet(64).samples.map((s) => s.completion))}; rewards.emoji_reward(completions=c); rewards.length_reward(completions=c)`;
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    execFileSync(python, ['-c', script]);
    times.push(performance.now() - t0);
  }
  return median(times);
}

/**
 * The same rewards at the top of a 1,000-line module-level training script (helpers, a dataset
 * pipeline, the trainer, `trainer.train()`), which the preview must not run.
 */
function scriptAround(rewards: string): string {
  const lines = [rewards, 'from datasets import load_dataset', 'from trl import GRPOConfig, GRPOTrainer', ''];
  for (let i = 0; lines.length < 990; i++) {
    lines.push(`def format_example_${i}(example):`, `    example["prompt"] = "Q${i}: " + example["question"]`, '    return example', '');
    lines.push(`dataset_${i} = load_dataset("json", data_files="part_${i}.jsonl", split="train").map(format_example_${i})`, '');
  }
  lines.push('trainer = GRPOTrainer(model="m", reward_funcs=[emoji_reward, length_reward], args=GRPOConfig(output_dir="o"))');
  lines.push('trainer.train()');
  return lines.join('\n');
}

/** A fresh worker's first preview of `file`'s two rewards: start, slice, import, score; median of rounds taken in turns. */
async function firstPreviewMs(python: string, workerScript: string, dir: string, files: string[], rounds: number): Promise<number[]> {
  const parser = await loadPythonParser(path.join(__dirname, '..', '..', 'dist'));
  const options = { scaleRewards: 'group' as const, aggregation: 'sum_then_normalize' as const };
  const times = files.map(() => [] as number[]);
  for (let round = 0; round < rounds; round++) {
    for (const [k, file] of files.entries()) {
      const worker = new RewardWorker({ python, workerScript, cwd: dir, timeoutMs: 120_000 });
      const rewards = ['emoji_reward', 'length_reward'].map((attr) => ({ name: attr, file, attr }));
      const t0 = performance.now();
      const preview = await scoreSamples(worker, { parser, rewards, set: sampleSet(64), paths: [dir], options });
      times[k].push(performance.now() - t0);
      worker.dispose();
      if (preview.functions.some((f) => f.error)) throw new Error(`${file}: ${preview.functions.map((f) => f.error?.message).join('; ')}`);
    }
  }
  return times.map(median);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const [python, workerScript] = process.argv.slice(2);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grpo-bench-'));
  fs.writeFileSync(path.join(dir, 'rewards.py'), REWARDS);
  const file = path.join(dir, 'rewards.py');
  const rewards = ['emoji_reward', 'length_reward'].map((attr) => ({ name: attr, file, attr }));
  const script = path.join(dir, 'train_script.py');
  fs.writeFileSync(script, scriptAround(REWARDS));
  const [firstSmall, firstScript] = await firstPreviewMs(python, workerScript, dir, [file, script], 5);
  const worker = new RewardWorker({ python, workerScript, cwd: dir, timeoutMs: 120_000 });
  const options = { scaleRewards: 'group' as const, aggregation: 'sum_then_normalize' as const };
  const parser = await loadPythonParser(path.join(__dirname, '..', '..', 'dist'));
  try {
    const small = sampleSet(64);
    await scoreSamples(worker, { parser, rewards, set: small, paths: [dir], options }); // start + first import
    const overheads: number[] = [];
    const totals: number[] = [];
    for (let i = 0; i < 50; i++) {
      const preview = await scoreSamples(worker, { parser, rewards, set: small, paths: [dir], options });
      totals.push(preview.ms);
      overheads.push(preview.ms - preview.functions.reduce((sum, f) => sum + f.ms, 0));
    }
    const cold = coldPythonMs(python, dir, 5);
    const big = sampleSet(10_000);
    const bigTimes: number[] = [];
    for (let i = 0; i < 3; i++) bigTimes.push((await scoreSamples(worker, { parser, rewards, set: big, paths: [dir], options })).ms);
    const loop = inProcessMs(python, dir, 10_000, 3);
    process.stdout.write(
      JSON.stringify({
        warmP50: median(totals),
        overheadP50: median(overheads),
        cold,
        big: Math.min(...bigTimes),
        loop,
        firstSmall,
        firstScript,
      }),
    );
  } finally {
    worker.dispose();
  }
}

void main();
