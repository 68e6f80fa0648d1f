// `grpo-studio dry-run` against TRL's own first training step (`python -m trl.scripts.grpo
// --max_steps 1`, what `trl grpo` runs) on the same config file, each timed from the command to its
// exit, model loading included on both sides. The dry run is timed with K = the prompts of TRL's
// first generation batch (the same work up to the backward pass) and with its default K = 8; and, with
// `inEditor`, the dry run the editor makes when the model has an ONNX export (bench/inEditorDryRun.bench.ts:
// sampled by onnxruntime-node, scored in the reward worker). The sides take turns, `rounds` times, and
// the median of each is reported.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * One config both sides read: the example's settings with absolute paths, the dataset's column
 * already named `prompt` and rewards as module paths, because plain TRL knows neither GRPO Studio's
 * column_mapping nor `file.py::name`.
 */
function plainConfig({ source, model, questions, dir }) {
  const prompts = readFileSync(questions, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.stringify({ prompt: JSON.parse(line).question }))
    .join('\n');
  writeFileSync(path.join(dir, 'prompts.jsonl'), `${prompts}\n`);
  const config = readFileSync(source, 'utf8')
    .replace(/^model_name_or_path:.*$/m, `model_name_or_path: ${model}`)
    .replace(/^column_mapping:.*\n(?:[ \t]+.*\n)*/m, '')
    .replace(/^(\s+data_files:).*$/m, `$1 ${path.join(dir, 'prompts.jsonl')}`)
    .replace(/^\s+- (?:\S*\/)?rewards(?:\.py::|\.)(\w+)$/gm, '  - rewards.$1')
    .replace(/^save_strategy:.*$/m, 'save_strategy: "no"')
    .replace(/^output_dir:.*$/m, `output_dir: ${path.join(dir, 'trl-out')}`);
  const file = path.join(dir, 'run.yaml');
  writeFileSync(file, config);
  return { file, config };
}

/** Seconds from spawn to exit; for the dry run also when its "sampling" line came (model loaded). */
function timed(command, args, options) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let sampling;
    let stderr = '';
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      if (sampling === undefined && /dry-run: sampling /.test(stderr)) sampling = (performance.now() - t0) / 1000;
    });
    child.on('exit', (code) =>
      code === 0
        ? resolve({ seconds: (performance.now() - t0) / 1000, sampling, stdout })
        : reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr.slice(-2000)}`)),
    );
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function dryRunBench(python, root, { name, source, model, questions, rewardsDir, inEditor, rounds = 3 }) {
  const dir = mkdtempSync(path.join(tmpdir(), 'grpo-dry-run-bench-'));
  try {
    const { file, config } = plainConfig({ source, model, questions, dir });
    const setting = (key, fallback) => Number(new RegExp(`^${key}:\\s*(\\S+)`, 'm').exec(config)?.[1] ?? fallback);
    const g = setting('num_generations', 8);
    const firstStepPrompts = Math.max(1, (setting('per_device_train_batch_size', 8) * setting('steps_per_generation', 1)) / g);
    const env = { ...process.env, PYTHONPATH: rewardsDir, HF_HUB_OFFLINE: '1', GRPO_STUDIO_PYTHON: python };
    const options = { cwd: dir, env };
    const trl = () => timed(python, ['-m', 'trl.scripts.grpo', '--config', file, '--max_steps', '1'], options);
    const dryRun = (k) =>
      timed('node', [path.join(root, 'dist', 'cli.js'), 'dry-run', '--config', file, '--prompts', String(k), '--json'], options);
    const editorRun = (k) =>
      timed(
        'node',
        [
          inEditor.script,
          JSON.stringify({ dist: path.join(root, 'dist'), python, exportDir: inEditor.exportDir, config: file, rewardsDir, prompts: k }),
        ],
        options,
      );
    const runs = { trl: [], same: [], default: [], editorSame: [], editorDefault: [] };
    let report;
    for (let round = 0; round < rounds; round++) {
      runs.trl.push(await trl());
      runs.same.push(await dryRun(firstStepPrompts));
      const full = await dryRun(8);
      runs.default.push(full);
      report = JSON.parse(full.stdout);
      if (inEditor) {
        runs.editorSame.push(await editorRun(firstStepPrompts));
        runs.editorDefault.push(await editorRun(8));
      }
    }
    const seconds = (xs) => median(xs.map((x) => x.seconds));
    const tokens = report.completions.reduce((sum, c) => sum + c.length, 0);
    const sampling = median(runs.default.map((x) => x.seconds - x.sampling));
    return {
      name,
      g,
      firstStepPrompts,
      rounds,
      trl: seconds(runs.trl),
      same: seconds(runs.same),
      default: seconds(runs.default),
      loadedAfter: median(runs.default.map((x) => x.sampling)),
      completions: report.completions.length,
      tokens,
      tokensPerSecond: tokens / sampling,
      editorSame: inEditor ? seconds(runs.editorSame) : undefined,
      editorDefault: inEditor ? seconds(runs.editorDefault) : undefined,
      // Everything included (parser, Python start, ONNX session): a floor for the sampler's own rate.
      editorTokensPerSecond: inEditor ? median(runs.editorDefault.map((x) => JSON.parse(x.stdout).tokens / x.seconds)) : undefined,
      torch: execFileSync(python, ['-c', 'import torch; print(torch.get_num_threads())'], { encoding: 'utf8' }).trim(),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function printDryRunBench(rows) {
  console.log(
    '\nGRPO: Dry Run vs TRL’s own first training step (python -m trl.scripts.grpo --max_steps 1), same config file, CPU, command to exit, model loading included on both sides',
  );
  for (const r of rows) {
    const ratio = (x) => (x / r.trl).toFixed(2);
    console.log(
      `  ${r.name} (G=${r.g}, torch threads ${r.torch}; median of ${r.rounds}, the sides taking turns):\n` +
        `    TRL first step ${r.trl.toFixed(1)} s (generation of ${r.firstStepPrompts} prompt${r.firstStepPrompts > 1 ? 's' : ''} × ${r.g}, rewards, loss, backward, optimizer step)\n` +
        `    dry run, the same ${r.firstStepPrompts} prompt${r.firstStepPrompts > 1 ? 's' : ''}: ${r.same.toFixed(1)} s, ratio ${ratio(r.same)} (goal ≤ 0.5: ${r.same / r.trl <= 0.5 ? 'met' : 'MISSED'})\n` +
        `    dry run, its default 8 prompts (${r.completions} completions, ${r.tokens} tokens): ${r.default.toFixed(1)} s, ratio ${ratio(r.default)}; ` +
        `model loaded after ${r.loadedAfter.toFixed(1)} s, then ${r.tokensPerSecond.toFixed(0)} completion tokens/s through TRL's own generation and scoring` +
        (r.editorSame === undefined
          ? ''
          : `\n    in the editor from the ONNX export (onnxruntime-node sampling, the reward worker scoring): the same ${r.firstStepPrompts} prompt${r.firstStepPrompts > 1 ? 's' : ''} ${r.editorSame.toFixed(1)} s, ratio ${ratio(r.editorSame)} (goal ≤ 0.5: ${r.editorSame / r.trl <= 0.5 ? 'met' : 'MISSED'}); 8 prompts ${r.editorDefault.toFixed(1)} s, ratio ${ratio(r.editorDefault)}, ` +
            `${r.editorTokensPerSecond.toFixed(0)} completion tokens/s end to end, ${(r.editorTokensPerSecond / r.tokensPerSecond).toFixed(2)} of TRL's generation after its model load (goal ≥ 1.0: ${r.editorTokensPerSecond >= r.tokensPerSecond ? 'met' : 'MISSED'})`),
    );
  }
}
