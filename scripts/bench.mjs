// `npm run bench`: discovery speed against its goals, with `rg` over the same trees as the floor.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { runnerBench, scriptBench } from '../bench/runner.bench.mjs';
import { printScaleBench, scaleBench, writeTrainerState } from '../bench/scale.bench.mjs';
import { dryRunBench, printDryRunBench } from '../bench/dryRun.bench.mjs';
import { ensurePythonEnv } from './setup-python.mjs';

const root = new URL('..', import.meta.url).pathname;
const RUNS = 5;

function sh(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: root, encoding: 'utf8', maxBuffer: 64 * 2 ** 20, ...options });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms) => `${ms.toFixed(1)} ms`;

sh('node', ['esbuild.mjs']);
/** bench/<name>.bench.ts bundled for node into out/bench/<name>.bench.js (import.meta.url as the file's own URL). */
async function bundleBench(name, options = {}) {
  const outfile = join(root, 'out', 'bench', `${name}.bench.js`);
  await esbuild.build({
    entryPoints: [join(root, 'bench', `${name}.bench.ts`)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    define: { 'import.meta.url': 'importMetaUrl' },
    banner: { js: "const importMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
    logLevel: 'error',
    ...options,
  });
  return outfile;
}
const worker = await bundleBench('discovery');
const previewWorker = await bundleBench('previews');
const trlOutputWorker = await bundleBench('trlOutput');
const onnxWorker = await bundleBench('onnx', { external: ['onnxruntime-node'] });
const inEditorDryRun = await bundleBench('inEditorDryRun', { external: ['onnxruntime-node', 'web-tree-sitter'] });

const python = await ensurePythonEnv();
// The ONNX models (built locally, cached under test/fixtures/generated/): the tests' tiny LM and the bigger bench LM.
const onnxModels = {
  ...JSON.parse(sh(python, ['test/python/onnx_fixtures.py'])),
  ...JSON.parse(sh(python, ['test/python/onnx_fixtures.py', '--bench'])),
};
// The example's real model (SmolLM2-135M-Instruct, float32, from PyPI) and GRPO Studio's own ONNX export of it.
const smollm2 = sh(python, ['test/python/smollm2_fixture.py']).trim();
const smollm2Onnx = sh(python, ['test/python/smollm2_fixture.py', '--onnx']).trim();
const sitePackages = sh(python, ['-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])']).trim();
const trlTree = existsSync(join(root, '.tools', 'trl-src')) ? join(root, '.tools', 'trl-src') : join(sitePackages, 'trl');
const bigTree = ['transformers', 'trl', 'datasets', 'accelerate', 'peft'].map((p) => join(sitePackages, p)).filter(existsSync);

const trees = [
  {
    name: trlTree.endsWith('trl-src') ? 'TRL source tree' : 'TRL (installed package; put a checkout in .tools/trl-src for the full tree)',
    roots: [trlTree],
    goalMs: 300,
  },
  { name: 'transformers + trl + datasets + accelerate + peft (test venv)', roots: bigTree, goalMs: 1500 },
];

const rows = [];
for (const tree of trees) {
  const cold = [];
  let last;
  for (let i = 0; i < RUNS; i++) {
    last = JSON.parse(sh('node', [worker, JSON.stringify({ mode: 'cold', wasmDir: join(root, 'dist'), roots: tree.roots })]));
    cold.push(last.ms);
  }
  const rg = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const search = spawnSync('rg', ['-l', '-t', 'py', 'reward|completions|prompts|GRPO', ...tree.roots]);
    if (search.error) break; // no ripgrep here: no floor to compare with
    rg.push(performance.now() - t0);
  }
  const ours = median(cold);
  const floor = rg.length ? median(rg) : undefined;
  rows.push({ tree: tree.name, files: last.files, rewards: last.rewards, ours, floor, goal: tree.goalMs, rss: last.rssMb });
}

const rechecks = ['typical', 'largest'].flatMap((pick) =>
  ['inside', 'between'].map((where) => ({
    pick,
    where,
    ...JSON.parse(sh('node', [worker, JSON.stringify({ mode: 'recheck', pick, where, wasmDir: join(root, 'dist'), roots: [trlTree] })])),
  })),
);
const activations = [];
for (let i = 0; i < RUNS; i++) activations.push(JSON.parse(sh('node', [join(root, 'bench', 'activation.bench.js')])));

console.log('\nCold discovery (fresh process each run: parser load, walk, read, parse, resolve, check; median of %d)', RUNS);
for (const r of rows) {
  console.log(
    `  ${r.tree}\n    ${r.files} .py files, ${r.rewards} rewards found: ${fmt(r.ours)} (goal ≤ ${r.goal} ms: ${r.ours <= r.goal ? 'met' : 'MISSED'}), ` +
      `${r.floor === undefined ? 'no rg floor (ripgrep is not installed: apt-get install ripgrep)' : `rg floor ${fmt(r.floor)}, ratio ours/rg ${(r.ours / r.floor).toFixed(2)}`}, peak RSS ${r.rss.toFixed(0)} MB`,
  );
}
console.log('\nRe-check of one edited file in the TRL tree (update + report, 200 edits: a line typed at the middle, then taken out)');
for (const r of rechecks) {
  console.log(
    `  ${r.pick === 'typical' ? 'median-sized' : 'largest'} reward file ${r.file.replace(root, '')} (${(r.bytes / 1024).toFixed(0)} KB), ` +
      `${r.where === 'inside' ? 'in a function body' : 'on a new line between functions'} (line ${r.line}): ` +
      `p50 ${fmt(r.p50)}, p95 ${fmt(r.p95)} (goal ≤ 10 ms: ${r.p95 <= 10 ? 'met' : 'MISSED'}), max ${fmt(r.max)}; ` +
      `a fresh parse and summary of the whole file alone: p50 ${fmt(r.wholeP50)}, ${(r.wholeP50 / r.p50).toFixed(1)}× the re-check`,
  );
}
const notebook = JSON.parse(sh('node', [worker, JSON.stringify({ mode: 'notebook', wasmDir: join(root, 'dist') })]));
console.log('\nNotebooks: a 200-cell GRPO notebook (magics, markdown, 40 rewards, the trainer in the last cell)');
console.log(
  `  cold check of its folder: ${fmt(notebook.coldMs)} (${notebook.rewards} rewards, ${(notebook.bytes / 1024).toFixed(0)} KB); ` +
    `re-check after editing one cell (200 edits): p50 ${fmt(notebook.p50)}, p95 ${fmt(notebook.p95)} (goal ≤ 10 ms: ${notebook.p95 <= 10 ? 'met' : 'MISSED'})`,
);
const zooRoots = ['verdicts', 'datasets', 'release-verdicts', 'zoo', 'origin']
  .map((d) => join(root, 'test', 'fixtures', d))
  .filter(existsSync);
const zoo = [];
for (let i = 0; i < RUNS; i++)
  zoo.push(JSON.parse(sh('node', [worker, JSON.stringify({ mode: 'cold', wasmDir: join(root, 'dist'), roots: zooRoots })])));
const zooMs = median(zoo.map((z) => z.ms));
console.log(
  `  the tests' zoo (${zooRoots.map((r) => r.replace(`${root}test/fixtures/`, '')).join(', ')}: ${zoo[0].files} files, ${zoo[0].rewards} rewards) checked cold: ${fmt(zooMs)} (goal ≤ 300 ms: ${zooMs <= 300 ? 'met' : 'MISSED'})`,
);
const detection = JSON.parse(
  sh('node', [worker, JSON.stringify({ mode: 'detect', wasmDir: join(root, 'dist'), roots: [join(root, 'examples')] })], {
    env: { ...process.env, BENCH_PYTHON: python },
  }),
);
console.log(
  `  finding the TRL version (installed ${detection.version} in the test venv, pins in examples/): median ${fmt(detection.median)}, max ${fmt(detection.max)} of the activation below`,
);

const act = median(activations.map((a) => a.totalMs));
console.log('\nExtension activation (require dist/extension.js + activate() against a stand-in vscode module; median of %d)', RUNS);
console.log(
  `  ${fmt(act)} (load ${fmt(median(activations.map((a) => a.loadMs)))}, activate ${fmt(median(activations.map((a) => a.activateMs)))}; goal ≤ 100 ms: ${act <= 100 ? 'met' : 'MISSED'})`,
);

const previews = JSON.parse(sh('node', [previewWorker, python, join(root, 'python', 'grpo_studio_worker.py')]));
console.log('\nReward previews (emoji + numpy rewards, the persistent worker against Python run directly)');
console.log(
  `  64 samples × 2 rewards, warm: p50 ${fmt(previews.warmP50)}, of which ${fmt(previews.overheadP50)} outside the functions (goal ≤ 50 ms: ${previews.overheadP50 <= 50 ? 'met' : 'MISSED'})`,
);
console.log(
  `  cold \`python -c\` importing and calling the same: ${fmt(previews.cold)}; ratio cold/warm ${(previews.cold / previews.warmP50).toFixed(1)}× (goal ≥ 10×: ${previews.cold / previews.warmP50 >= 10 ? 'met' : 'MISSED'})`,
);
console.log(
  `  10,000 samples: ${fmt(previews.big)} through the worker vs ${fmt(previews.loop)} for a plain in-process loop; ratio ${(previews.big / previews.loop).toFixed(2)} (goal ≤ 1.5: ${previews.big / previews.loop <= 1.5 ? 'met' : 'MISSED'})`,
);
console.log(
  `  first preview (fresh worker) of the same rewards in a 1,000-line training script: ${fmt(previews.firstScript)} vs ${fmt(previews.firstSmall)} in their own small module; ratio ${(previews.firstScript / previews.firstSmall).toFixed(2)} (goal ≤ 2: ${previews.firstScript / previews.firstSmall <= 2 ? 'met' : 'MISSED'})`,
);

const dashboardOutput = sh('node', ['--test', '--test-name-pattern=timings', 'test/webview/dashboard.test.mjs']);
const dashboard = JSON.parse(/DASHBOARD_TIMINGS (\{.*\})/.exec(dashboardOutput)?.[1] ?? '{}');
console.log('\nTraining dashboard (Chromium, the real webview bundle)');
if (dashboard.first !== undefined) {
  console.log(
    `  ${dashboard.rows.toLocaleString('en')}-row history: first chart drawn after ${fmt(dashboard.first)} (goal ≤ 1 s: ${dashboard.first <= 1000 ? 'met' : 'MISSED'}), all ${dashboard.charts} visible charts after ${fmt(dashboard.all)}`,
  );
  console.log(
    `  a live step: median ${fmt(dashboard.live.total.median)}, p95 ${fmt(dashboard.live.total.p95)} of webview work (goal ≤ 16 ms: ${dashboard.live.total.p95 <= 16 ? 'met' : 'MISSED'}); longest frame p95 ${fmt(dashboard.live.frame.p95)}`,
  );
  console.log(
    `  a live step after a ${dashboard.shortRows}-row history (each step moves every on-screen chart, all redrawn): median ${fmt(dashboard.liveShort.total.median)}, p95 ${fmt(dashboard.liveShort.total.p95)}`,
  );
} else {
  console.log('  (no timings: see test/webview/dashboard.test.mjs)');
}

// A TRL output folder of 100,000 logged steps opened in the dashboard: the host sends the head of its
// trainer_state.json first (readTrlOutputHead), the webview draws it, the rest follows.
const trlFolder = mkdtempSync(join(tmpdir(), 'grpo-trl-folder-bench-'));
try {
  const mb = writeTrainerState(trlFolder, 100_000) / 1e6;
  const host = JSON.parse(sh('node', [trlOutputWorker, trlFolder]));
  const [head, rest] = host.arrivals;
  console.log(`\nOpening a TRL output folder of 100,000 logged steps (${mb.toFixed(0)} MB trainer_state.json)`);
  console.log(
    `  host: its first ${head.events.toLocaleString('en')} events after ${fmt(head.ms)}, the other ${rest?.events.toLocaleString('en') ?? 0} after ${fmt(rest?.ms ?? NaN)} (reading it whole: ${fmt(host.wholeMs)})`,
  );
  if (dashboard.head) {
    const first = head.ms + dashboard.head.first;
    console.log(
      `  first chart: ${fmt(head.ms)} on the host + ${fmt(dashboard.head.first)} in the webview for a ${dashboard.headRows}-row history = ${fmt(first)} (goal ≤ 1 s: ${first <= 1000 ? 'met' : 'MISSED'}); without the head it would be ${fmt(host.wholeMs + dashboard.first)}`,
    );
  }
} finally {
  rmSync(trlFolder, { recursive: true, force: true });
}

const runner = runnerBench(python, root);
console.log('\nTraining runner vs plain TRL (python -m trl.scripts.grpo), tiny model on CPU, same config and seed');
console.log(
  `  ${runner.runner.toFixed(2)} steps/s vs ${runner.trl.toFixed(2)} steps/s over ${runner.steps} steps (median of ${runner.rounds} rounds, taking turns; each side: ${runner.rates.runner.map((r) => r.toFixed(2)).join(', ')} vs ${runner.rates.trl.map((r) => r.toFixed(2)).join(', ')}); ratio ${(runner.runner / runner.trl).toFixed(2)} (goal ≥ 0.97: ${runner.runner / runner.trl >= 0.97 ? 'met' : 'MISSED'})`,
);

const script = scriptBench(python, root);
console.log('\nA training script under GRPO: Train (grpo_studio_runner.py --script) vs the same script run plain, tiny model on CPU');
console.log(
  `  ${script.studio.toFixed(2)} steps/s vs ${script.plain.toFixed(2)} steps/s over ${script.steps} steps (median of ${script.rounds} rounds, taking turns; each side: ${script.rates.studio.map((r) => r.toFixed(2)).join(', ')} vs ${script.rates.plain.map((r) => r.toFixed(2)).join(', ')}); ratio ${(script.studio / script.plain).toFixed(2)} (goal ≥ 0.97: ${script.studio / script.plain >= 0.97 ? 'met' : 'MISSED'})`,
);

// ONNX sampler: OnnxCausalLm.generate (onnxruntime-node) and the same KV-cache loop in Python onnxruntime, greedy, on the
// same graph, prompt, G, new tokens and intra-op threads, one generation each in turn (bench/onnx.bench.ts compare).
const ONNX = {
  prompt: '日本の首都はどこですか？東京について三つの文で説明してください。🗼',
  numGenerations: 8,
  maxNewTokens: 64,
  runs: 24,
};
const onnxRows = [
  { name: 'tiny-lm-onnx (hidden 64, 2 layers: per-step overhead dominates)', model: onnxModels.lm },
  { name: 'bench-lm-onnx (hidden 256, 4 layers, 8/4 heads: compute dominates)', model: onnxModels.bench_lm },
]
  .flatMap((c) => [1, 2].map((threads) => ({ ...c, threads })))
  .concat([
    {
      name: 'SmolLM2-135M-Instruct exported by GRPO: Export Model for In-Editor Sampling (hidden 576, 30 layers, 9/3 heads; 6 runs per side)',
      model: smollm2Onnx,
      threads: 2,
      runs: 6,
    },
  ])
  .map(({ name, model, threads, runs }) => {
    const r = JSON.parse(
      sh('node', [
        onnxWorker,
        JSON.stringify({
          mode: 'compare',
          python,
          script: join(root, 'bench', 'onnx_reference_loop.py'),
          model,
          threads,
          ...ONNX,
          runs: runs ?? ONNX.runs,
        }),
      ]),
    );
    const tps = (runs) => median(runs.map((x) => x.tokens / x.seconds));
    const ttft = (runs) => median(runs.map((x) => x.timeToFirstToken * 1000));
    const counts = [...new Set([...r.ours, ...r.py].map((x) => x.tokens))];
    return {
      name,
      threads,
      promptTokens: r.promptIds.length,
      samePrompt: JSON.stringify(r.promptIds) === JSON.stringify(r.pyPromptIds),
      sameIds: r.sameIds,
      tokens: counts.length === 1 ? `${counts[0]} on both sides in every run` : `NOT EQUAL (${counts.join(', ')})`,
      ours: tps(r.ours.slice(1)),
      py: tps(r.py.slice(1)),
      ref: tps(r.reference),
      ttft: ttft(r.ours.slice(1)),
      pyTtft: ttft(r.py.slice(1)),
      refTtft: ttft(r.reference),
      coldTtft: r.ours[0].timeToFirstToken * 1000,
      pyColdTtft: r.py[0].timeToFirstToken * 1000,
    };
  });
const onnxMemory = [
  ['tiny-lm-onnx', onnxModels.lm],
  ['bench-lm-onnx', onnxModels.bench_lm],
].map(([name, model]) => ({
  name,
  ...JSON.parse(
    sh('node', [
      onnxWorker,
      JSON.stringify({
        mode: 'memory',
        dist: join(root, 'dist'),
        model,
        numGenerations: 8,
        maxNewTokens: 128,
        temperature: 1,
        seed: 42,
        prompts: [ONNX.prompt, '猫が好きです 🐱', '富士山の高さは？', '春の花を三つ挙げてください。'],
      }),
    ]),
  ),
}));
const ortNode = sh('node', ['-p', "require('onnxruntime-node/package.json').version"]).trim();
const ortPython = sh(python, ['-c', 'import onnxruntime; print(onnxruntime.__version__)']).trim();
console.log(
  `\nONNX sampling with the KV cache: GRPO Studio (OnnxCausalLm.generate, onnxruntime-node ${ortNode}) vs Python onnxruntime ${ortPython} running the same loop (bench/onnx_reference_loop.py)`,
);
console.log(
  `  greedy, G=${ONNX.numGenerations}, ${ONNX.maxNewTokens} new tokens per row (EOS disabled on both sides), a ${onnxRows[0].promptTokens}-token prompt run once and its cache tiled to G rows;` +
    ` the decoding loop timed (session loaded before); median of ${ONNX.runs} runs per side, the two sides taking turns`,
);
for (const r of onnxRows) {
  console.log(
    `  ${r.name}, ${r.threads} intra-op thread${r.threads > 1 ? 's' : ''} on both sides:\n` +
      `    ${r.ours.toFixed(0)} tokens/s vs ${r.py.toFixed(0)} tokens/s: ratio ours/Python ${(r.ours / r.py).toFixed(2)} (goal ≥ 1.0: ${r.ours >= r.py ? 'met' : 'MISSED'})\n` +
      `    time to first token ${r.ttft.toFixed(2)} ms vs ${r.pyTtft.toFixed(2)} ms (first run of a fresh session: ${r.coldTtft.toFixed(2)} ms vs ${r.pyColdTtft.toFixed(2)} ms)\n` +
      `    generated tokens ${r.tokens}; prompt ids ${r.samePrompt ? 'equal' : 'DIFFER'}, completions ${r.sameIds ? 'identical' : 'NOT identical'}` +
      `; test/python/onnx_reference.py's loop (prompt in a batch of G): ${r.ref.toFixed(0)} tokens/s, first token ${r.refTtft.toFixed(2)} ms`,
  );
}
console.log(
  '\nMemory while sampling, in the process that hosts the sampler thread (in VS Code: the extension host). A Node process starts',
);
console.log(
  '  dist/sampleWorker.js on a worker_threads Worker and posts {type: "start", job} as GRPO: Sample Completions does (4 prompts × G=8, 128 new tokens, temperature 1, default threads):',
);
for (const m of onnxMemory) {
  const peak = m.hwmPeakMb ?? m.peakRssMb;
  console.log(
    `  ${m.name}: RSS ${m.rssBeforeMb.toFixed(0)} MB before loading, ${m.rssAtFirstTokenMb.toFixed(0)} MB at the first token, peak ${peak.toFixed(0)} MB while sampling` +
      ` (VmHWM; RSS polled every 5 ms: ${m.peakRssMb.toFixed(0)} MB): +${(peak - m.rssBeforeMb).toFixed(0)} MB; ${m.summary.completions} completions at ${m.summary.tokensPerSecond.toFixed(0)} tokens/s end to end`,
  );
}

const example = join(root, 'examples', 'emoji-length');
// The tiny model's own export, made as GRPO: Export Model for In-Editor Sampling makes it.
const tinyExport = join(root, 'out', 'bench', 'tiny-qwen2-onnx');
if (!existsSync(join(tinyExport, 'grpo-studio-export.json'))) {
  rmSync(tinyExport, { recursive: true, force: true });
  sh(python, [join(root, 'python', 'grpo_studio_export_onnx.py'), '--model', join(example, 'models', 'tiny-qwen2'), '--out', tinyExport]);
}
printDryRunBench([
  await dryRunBench(python, root, {
    name: 'tiny random Qwen2 (examples/emoji-length/run.tiny.yaml)',
    source: join(example, 'run.tiny.yaml'),
    model: join(example, 'models', 'tiny-qwen2'),
    questions: join(example, 'data', 'questions.jsonl'),
    rewardsDir: example,
    inEditor: { script: inEditorDryRun, exportDir: tinyExport },
  }),
  await dryRunBench(python, root, {
    name: 'SmolLM2-135M-Instruct, float32 (examples/smollm2-cpu/origin.yaml: the origin settings, 48 new tokens)',
    source: join(root, 'examples', 'smollm2-cpu', 'origin.yaml'),
    model: smollm2,
    questions: join(example, 'data', 'questions.jsonl'),
    rewardsDir: example,
    inEditor: { script: inEditorDryRun, exportDir: smollm2Onnx },
    rounds: 2,
  }),
]);

printScaleBench(scaleBench(root));
