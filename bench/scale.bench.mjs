// The CLI on big inputs, each a fresh `node dist/cli.js` process with its peak memory (maxRSS):
// `report` on a 1,000,000-step run and on a 2 GB events.jsonl of long completions, each beside a
// quarter-size file of the same shape (time per MB shows whether time is linear in the file), and
// `check` on a tree of 20,000 Python files.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const METRICS = [
  'loss',
  'grad_norm',
  'learning_rate',
  'num_tokens',
  'completions/mean_length',
  'completions/min_length',
  'completions/max_length',
  'completions/clipped_ratio',
  'completions/mean_terminated_length',
  'rewards/emoji_reward/mean',
  'rewards/emoji_reward/std',
  'rewards/length_reward/mean',
  'rewards/length_reward/std',
  'reward',
  'reward_std',
  'frac_reward_zero_std',
  'kl',
  'entropy',
  'clip_ratio/region_mean',
  'step_time',
];

/** Writes events.jsonl line by line through a 4 MB buffer (a 2 GB file never sits in memory here either). */
function writeEvents(dir, { steps, completionChars }) {
  mkdirSync(dir, { recursive: true });
  const fd = openSync(path.join(dir, 'events.jsonl'), 'w');
  let buffer = '';
  const put = (event) => {
    buffer += `${JSON.stringify(event)}\n`;
    if (buffer.length < 4 << 20) return;
    writeSync(fd, buffer);
    buffer = '';
  };
  put({ event: 'start', time: 1, max_steps: steps, config: { training: { max_steps: steps } }, versions: { trl: '1.16.0' } });
  const text = '絵文字🎉 と長い答え。'.repeat(Math.ceil(completionChars / 12)).slice(0, completionChars);
  for (let step = 1; step <= steps; step++) {
    const metrics = {};
    for (let i = 0; i < METRICS.length; i++) metrics[METRICS[i]] = Math.sin(step / 1000 + i) + i;
    put({ event: 'log', time: 1 + step, step, metrics });
    if (completionChars) {
      const rows = Array.from({ length: 8 }, (_, i) => ({
        prompt: `質問 ${step}`,
        completion: text,
        rewards: { emoji_reward: i % 4, length_reward: -i },
        advantage: (i - 3.5) / 2.3,
      }));
      put({ event: 'completions', time: 1 + step, step, rows });
    }
  }
  put({ event: 'end', time: steps + 2, status: 'finished', step: steps });
  writeSync(fd, buffer);
  closeSync(fd);
  return statSync(path.join(dir, 'events.jsonl')).size;
}

/** A TRL output folder as TRL leaves it: trainer_state.json with `steps` logged steps, in checkpoint-<steps>/. */
export function writeTrainerState(dir, steps) {
  const checkpoint = path.join(dir, `checkpoint-${steps}`);
  mkdirSync(checkpoint, { recursive: true });
  const fd = openSync(path.join(checkpoint, 'trainer_state.json'), 'w');
  writeSync(fd, `{"global_step": ${steps}, "max_steps": ${steps}, "log_history": [`);
  let buffer = '';
  for (let step = 1; step <= steps; step++) {
    const entry = { epoch: step / steps, step };
    for (let i = 0; i < METRICS.length; i++) entry[METRICS[i]] = Math.sin(step / 1000 + i) + i;
    buffer += `${step > 1 ? ',' : ''}${JSON.stringify(entry)}`;
    if (buffer.length < 4 << 20) continue;
    writeSync(fd, buffer);
    buffer = '';
  }
  writeSync(fd, `${buffer}]}`);
  closeSync(fd);
  return statSync(path.join(checkpoint, 'trainer_state.json')).size;
}

function cli(root, args) {
  const t0 = performance.now();
  const result = spawnSync(
    process.execPath,
    ['--require', path.join(root, 'bench', 'peakRss.js'), path.join(root, 'dist', 'cli.js'), ...args],
    {
      encoding: 'utf8',
      maxBuffer: 256 << 20,
    },
  );
  const seconds = (performance.now() - t0) / 1000;
  const peakMb = Number(/PEAK_RSS_KB (\d+)/.exec(result.stderr)?.[1] ?? NaN) / 1024;
  return { seconds, peakMb, status: result.status, stderr: result.stderr };
}

function reportOn(root, scratch, name, shape) {
  const dir = path.join(scratch, name);
  const bytes = shape.trlOutput ? writeTrainerState(dir, shape.steps) : writeEvents(dir, shape);
  const run = cli(root, ['report', dir, '--out', path.join(scratch, `${name}.html`)]);
  if (run.status !== 0) throw new Error(`report ${name} exited ${run.status}: ${run.stderr}`);
  const html = statSync(path.join(scratch, `${name}.html`)).size;
  rmSync(dir, { recursive: true, force: true });
  return { name, steps: shape.steps, mb: bytes / 1e6, ...run, htmlKb: html / 1024, sPerGb: run.seconds / (bytes / 1e9) };
}

function pythonTree(dir, files) {
  for (let i = 0; i < files; i++) {
    const folder = path.join(dir, `pkg${Math.floor(i / 500)}`);
    if (i % 500 === 0) mkdirSync(folder, { recursive: true });
    const source =
      i % 10 === 0
        ? `import re\n\n\ndef reward_${i}(completions, **kwargs):\n    return [float(len(re.findall(r"x", c))) for c in completions]\n\n\ndef helper_${i}(text):\n    return text.strip()\n`
        : `"""Module ${i}."""\nimport os\n\n\nclass Thing${i}:\n    def __init__(self, value):\n        self.value = value\n\n    def double(self):\n        return [self.value * 2 for _ in range(3)]\n\n\ndef function_${i}(a, b=1, *args, **kwargs):\n    if a > b:\n        return os.path.join(str(a), str(b))\n    return None\n`;
    writeFileSync(path.join(folder, `module_${i}.py`), source);
  }
}

export function scaleBench(root) {
  const scratch = mkdtempSync(path.join(tmpdir(), 'grpo-scale-bench-'));
  try {
    const reports = [
      reportOn(root, scratch, '100k-steps', { steps: 100_000, completionChars: 0 }),
      reportOn(root, scratch, '100k-steps-trl-output', { steps: 100_000, trlOutput: true }),
      reportOn(root, scratch, '250k-steps', { steps: 250_000, completionChars: 0 }),
      reportOn(root, scratch, '1M-steps', { steps: 1_000_000, completionChars: 0 }),
      reportOn(root, scratch, 'long-completions-quarter', { steps: 4_200, completionChars: 7_000 }),
      reportOn(root, scratch, 'long-completions-2GB', { steps: 16_800, completionChars: 7_000 }),
    ];
    const tree = path.join(scratch, 'tree');
    pythonTree(tree, 20_000);
    const checks = [1, 2, 3].map(() => cli(root, ['check', '--json', tree]));
    const check = checks.sort((a, b) => a.seconds - b.seconds)[1];
    return { reports, check };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

export function printScaleBench({ reports, check }) {
  console.log('\nThe CLI on big inputs (a fresh process each; peak memory is its maxRSS)');
  for (const r of reports) {
    console.log(
      `  report, ${r.steps.toLocaleString('en')} steps, ${r.mb.toFixed(0)} MB ${r.name.endsWith('trl-output') ? "TRL output folder's trainer_state.json" : 'events.jsonl'}: ${r.seconds.toFixed(1)} s (${r.sPerGb.toFixed(1)} s/GB), ` +
        `peak ${r.peakMb.toFixed(0)} MB (goal < 500 MB: ${r.peakMb < 500 ? 'met' : 'MISSED'}), report ${r.htmlKb.toFixed(0)} KB`,
    );
  }
  const [own, trl] = reports;
  console.log(
    `  the same 100,000 steps as a TRL output folder vs a GRPO Studio run folder: ${trl.seconds.toFixed(2)} s vs ${own.seconds.toFixed(2)} s; ratio ${(trl.seconds / own.seconds).toFixed(2)} (read, fold and render; the dashboard's first chart of such a folder: see "Opening a TRL output folder" above)`,
  );
  const pairs = [
    [reports[2], reports[3]],
    [reports[4], reports[5]],
  ];
  for (const [small, big] of pairs)
    console.log(`  time per GB, ${big.name} / ${small.name}: ${(big.sPerGb / small.sPerGb).toFixed(2)} (1.0 is linear in the file)`);
  console.log(
    `  check --json on 20,000 .py files: ${check.seconds.toFixed(2)} s (goal < 4 s: ${check.seconds < 4 ? 'met' : 'MISSED'}), ` +
      `peak ${check.peakMb.toFixed(0)} MB (goal < 400 MB: ${check.peakMb < 400 ? 'met' : 'MISSED'}), exit ${check.status} (median of 3)`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) printScaleBench(scaleBench(path.resolve(path.dirname(process.argv[1]), '..')));
