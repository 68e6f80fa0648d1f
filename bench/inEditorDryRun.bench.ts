// The in-editor dry run (sampling/core/onnxDryRun.ts) timed as the editor runs it, for
// bench/dryRun.bench.mjs: from nothing loaded to the step the signal report reads (tree-sitter
// parser, the reward worker's Python start, the ONNX session, sampling, scoring).
//
//   node out/bench/inEditorDryRun.bench.js '{"dist", "python", "exportDir", "config", "rewardsDir", "prompts"}'
//   -> {"seconds", "completions", "tokens"}
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadPythonParser } from '../src/discovery/core/parser';
import { installedTrl } from '../src/discovery/core/trlProfile';
import { NEWEST_KNOWN } from '../src/shared/trlReleases';
import { onnxDryRun } from '../src/sampling/core/onnxDryRun';
import { RewardWorker } from '../src/scoring/rewardWorker';
import { promptRows, readDatasetRecords } from '../src/shared/datasetReader';
import { readRunConfig, rewardSpecs, trainingDataFiles } from '../src/shared/runConfig';

interface Args {
  dist: string;
  python: string;
  exportDir: string;
  config: string;
  /** Where the config's `rewards.<name>` module lives. */
  rewardsDir: string;
  prompts: number;
}

async function main(args: Args): Promise<void> {
  const started = performance.now();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grpo-in-editor-dry-run-'));
  const values = readRunConfig(args.config);
  const [dataset] = trainingDataFiles(values, [path.dirname(args.config)]);
  const worker = new RewardWorker({
    python: args.python,
    workerScript: path.join(args.dist, '..', 'python', 'grpo_studio_worker.py'),
    cwd: args.rewardsDir,
    timeoutMs: 120_000,
  });
  try {
    const outcome = await onnxDryRun({
      sampleWorker: path.join(args.dist, 'sampleWorker.js'),
      exportDir: args.exportDir,
      modelName: String(values.model_name_or_path),
      values,
      trlVersion: installedTrl(args.python) ?? NEWEST_KNOWN,
      prompts: promptRows(readDatasetRecords(dataset, values).records, { limit: args.prompts, distinct: 'all' }),
      out: path.join(dir, 'dry.samples.jsonl'),
      worker,
      parser: await loadPythonParser(args.dist),
      rewards: rewardSpecs(values).map((spec) => {
        const name = spec.split('.').at(-1)!;
        return { name, file: path.join(args.rewardsDir, 'rewards.py'), attr: name };
      }),
      paths: [args.rewardsDir],
      scoring: { scaleRewards: 'group', aggregation: 'sum_then_normalize' },
    });
    if (!('step' in outcome)) throw new Error(JSON.stringify(outcome));
    const seconds = (performance.now() - started) / 1000;
    const rows = outcome.step.rows;
    process.stdout.write(JSON.stringify({ seconds, completions: rows.length, tokens: rows.reduce((sum, r) => sum + r.length, 0) }));
  } finally {
    worker.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main(JSON.parse(process.argv[2] ?? '{}') as Args).catch((error) => {
  console.error(error);
  process.exit(1);
});
