import { runCheck } from './check';
import { runDryRun } from './dryRun';
import { runReport } from './report';
import { runSample } from './sample';
import { runScore } from './score';
import { runTrain } from './train';

const USAGE = `Usage: grpo-studio <command> [options]

Commands:
  check [PATH ...] [--json] [--trl-version X] [--python PY] [--columns a,b]
        [--format auto|standard|conversational] [--no-shape]
      Find reward functions under PATH (files or folders, default .) and check them against
      the calling convention of the TRL release that will run them: --trl-version, else the
      one installed for --python (read from its site-packages, nothing is run), else a pin in
      requirements*.txt, pyproject.toml, setup.cfg, environment.yml or a notebook's
      '!pip install', else the newest known. Exits 1 when an error is found.
  score --rewards FILE.py|FILE.ipynb[::name,...] --samples FILE.jsonl [--python PATH] [--weights w1,w2]
        [--scale-rewards group|batch|none] [--aggregation sum_then_normalize|normalize_then_sum]
        [--tokenizer DIR] [--timeout SECONDS] [--json]
      Run reward functions on a sample set as GRPOTrainer calls them, with GRPO advantages.
      Exits 1 when a reward function fails.
  train --config FILE [--max-steps N] [--run-dir DIR] [--resume]
  train --script FILE.py [--run-dir DIR] [--resume] [--num-processes N] [--accelerate-config FILE]
        [-- SCRIPT ARGS...]
      Run TRL GRPO training with a run config (the YAML that 'trl grpo --config' reads), or your
      own training script unedited (every GRPOTrainer it builds gets GRPO Studio's callback), in the
      foreground with a progress bar. A script runs under 'accelerate launch' with
      --num-processes N (on as many GPUs) or an --accelerate-config (DeepSpeed, FSDP). Events, checkpoints and the log go to the run dir
      (default runs/<timestamp>-<name>/). Exits 0 when the run finished, 1 when it failed;
      Ctrl+C or SIGTERM stops it with a checkpoint and exits 130 or 143.
  sample --model DIR --prompts FILE.jsonl --num-generations G [--max-new-tokens N]
         [--temperature T] [--top-p P] [--top-k K] [--seed S] [--threads N] --out FILE.jsonl [--force]
      Draw G completions per prompt from a local ONNX causal LM (optimum export layout) with
      onnxruntime, no Python needed. The output has G lines {"prompt", "completion", <other
      columns>} per prompt, in prompt order: a sample set for 'score' and the editor's previews.
      Temperature 0 is greedy decoding. Defaults: 128 tokens, temperature 1, top-p 1, seed 42.
      An existing --out is replaced only with --force, and never the --prompts file.
  dry-run --config FILE [--prompts K] [--seed S] [--out FILE.samples.jsonl] [--force] [--json]
      Before training: TRL's own first generation step on K prompts (default 8; the first K, or
      K drawn with --seed) of the config's dataset, with its model and settings: G completions
      each, scored by every reward, with the advantages and a signal report (zero-std groups,
      dead rewards, truncation, which reward drives the advantage). No training step is taken.
      --out saves the completions as a sample set. Exits 1 when the model or a reward cannot
      be used.
  report RUN_DIR|PROJECT.db[::RUN] [--out FILE] [--force]
      Write a self-contained HTML report of a run (charts, config, sample completions) to
      share; default RUN_DIR/report.html. RUN_DIR is a GRPO Studio run folder or a TRL
      output folder; PROJECT.db a Trackio project (its run named after ::).
`;

/** The usage text of one command: its lines in USAGE. */
function commandUsage(command: string): string | undefined {
  const lines = USAGE.split('\n');
  const start = lines.findIndex((line) => line.startsWith(`  ${command} `) || line === `  ${command}`);
  if (start < 0) return undefined;
  const end = lines.findIndex((line, i) => i > start && /^ {2}\S/.test(line));
  return `usage: grpo-studio\n${lines.slice(start, end < 0 ? undefined : end).join('\n')}\n`;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const help = command !== undefined && (rest.includes('--help') || rest.includes('-h')) ? commandUsage(command) : undefined;
  if (help) {
    process.stdout.write(help);
    return 0;
  }
  switch (command) {
    case 'check':
      return runCheck(rest);
    case 'score':
      return runScore(rest);
    case 'train':
      return runTrain(rest);
    case 'report':
      return runReport(rest);
    case 'dry-run':
      return runDryRun(rest);
    case 'sample':
      return runSample(rest);
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`grpo-studio: unknown command '${command}'\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // An unknown or malformed option (node:util parseArgs): the message and the usage, no stack.
    if ((error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`grpo-studio: ${(error as Error).message}\n\n${USAGE}`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`grpo-studio: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 2;
  },
);
