// The GRPO Studio runner against plain TRL (`python -m trl.scripts.grpo`, what `trl grpo` runs) on
// the same tiny model, data, rewards and seed. Steps per second come from the difference between a
// short and a longer run of each, so model loading and start-up cancel out; the two sides take
// turns, `rounds` times, and the median rate of each is reported (one pair of runs on a 2-core
// machine varies by ±10%).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export function runnerBench(python, root, { short = 4, long = 44, rounds = 3 } = {}) {
  const example = path.join(root, 'examples', 'emoji-length');
  const dir = mkdtempSync(path.join(tmpdir(), 'grpo-runner-bench-'));
  // Plain TRL knows no column_mapping: give it a dataset whose column is already `prompt`.
  const questions = readFileSync(path.join(example, 'data', 'questions.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.stringify({ prompt: JSON.parse(line).question }))
    .join('\n');
  writeFileSync(path.join(dir, 'prompts.jsonl'), `${questions}\n`);
  const config = readFileSync(path.join(example, 'run.tiny.yaml'), 'utf8')
    .replace(/^column_mapping:.*\n(\s+.*\n)*/m, '')
    .replace('models/tiny-qwen2', path.join(example, 'models', 'tiny-qwen2'))
    .replace('data/questions.jsonl', path.join(dir, 'prompts.jsonl'))
    .replace(/^save_steps:.*$/m, 'save_steps: 1000')
    .replace(/^output_dir:.*$/m, `output_dir: ${path.join(dir, 'trl-out')}`);
  const configFile = path.join(dir, 'run.yaml');
  writeFileSync(configFile, config);
  const env = { ...process.env, PYTHONPATH: example, HF_HUB_OFFLINE: '1' };
  const time = (args) => {
    const t0 = performance.now();
    execFileSync(python, args, { cwd: example, env, stdio: 'ignore' });
    return (performance.now() - t0) / 1000;
  };
  let runs = 0;
  const runner = (steps) =>
    time([
      path.join(root, 'python', 'grpo_studio_runner.py'),
      '--config',
      configFile,
      '--max-steps',
      String(steps),
      '--run-dir',
      path.join(dir, `runner-${++runs}`),
    ]);
  const trl = (steps) => time(['-m', 'trl.scripts.grpo', '--config', configFile, '--max_steps', String(steps)]);
  const rate = (run) => (long - short) / (run(long) - run(short));
  const rates = { runner: [], trl: [] };
  for (let round = 0; round < rounds; round++) {
    rates.runner.push(rate(runner));
    rates.trl.push(rate(trl));
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return { runner: median(rates.runner), trl: median(rates.trl), steps: long - short, rounds, rates };
}

/**
 * The callback's cost on a user's own script: the same origin-shaped script run plain
 * (`python train.py`) and under `grpo_studio_runner.py --script` (every GRPOTrainer gets the
 * callback). The rate is Trainer's own (steps / train_runtime, which it prints), so start-up and
 * model loading stay out; the two sides take turns, `rounds` times.
 */
export function scriptBench(python, root, { steps = 60, rounds = 5 } = {}) {
  const example = path.join(root, 'examples', 'emoji-length');
  const dir = mkdtempSync(path.join(tmpdir(), 'grpo-script-bench-'));
  const script = path.join(dir, 'train.py');
  writeFileSync(
    script,
    `import sys
from datasets import Dataset
from trl import GRPOConfig, GRPOTrainer
from rewards import emoji_reward, length_reward

dataset = Dataset.from_list([{"prompt": q} for q in ["富士山の高さは？", "日本の首都は？", "桜はいつ咲く？", "寿司のネタは？"] * 4])
args = GRPOConfig(output_dir=${JSON.stringify(path.join(dir, 'plain-out'))}, max_steps=int(sys.argv[1]), per_device_train_batch_size=4,
                  num_generations=4, max_completion_length=16, use_cpu=True, logging_steps=1, save_steps=1000,
                  report_to=[], seed=42)
trainer = GRPOTrainer(model=${JSON.stringify(path.join(example, 'models', 'tiny-qwen2'))}, reward_funcs=[emoji_reward, length_reward],
                      args=args, train_dataset=dataset)
trainer.train()
`,
  );
  const env = { ...process.env, PYTHONPATH: example, HF_HUB_OFFLINE: '1' };
  const rate = (args) => {
    const out = execFileSync(python, args, { cwd: dir, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const runtime = Number(/'train_runtime': '?([\d.]+)/.exec(out)?.[1]);
    if (!Number.isFinite(runtime)) throw new Error(`no train_runtime in the output of ${args.join(' ')}`);
    return steps / runtime;
  };
  let runs = 0;
  const rates = { studio: [], plain: [] };
  for (let round = 0; round < rounds; round++) {
    rates.studio.push(
      rate([
        path.join(root, 'python', 'grpo_studio_runner.py'),
        '--script',
        script,
        '--run-dir',
        path.join(dir, `run-${++runs}`),
        '--',
        String(steps),
      ]),
    );
    rates.plain.push(rate([script, String(steps)]));
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return { studio: median(rates.studio), plain: median(rates.plain), steps, rounds, rates };
}
