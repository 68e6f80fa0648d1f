// `npm run bench`: discovery speed against its goals, with `rg` over the same trees as the floor.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { runnerBench } from '../bench/runner.bench.mjs';
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
const worker = join(root, 'out', 'bench', 'discovery.bench.js');
await esbuild.build({
  entryPoints: [join(root, 'bench', 'discovery.bench.ts')], outfile: worker, bundle: true, platform: 'node', format: 'cjs',
  define: { 'import.meta.url': 'importMetaUrl' },
  banner: { js: "const importMetaUrl = require('node:url').pathToFileURL(__filename).href;" }, logLevel: 'warning',
});

const previewWorker = join(root, 'out', 'bench', 'previews.bench.js');
await esbuild.build({
  entryPoints: [join(root, 'bench', 'previews.bench.ts')], outfile: previewWorker, bundle: true, platform: 'node', format: 'cjs', logLevel: 'warning',
});

const python = await ensurePythonEnv();
const sitePackages = sh(python, ['-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])']).trim();
const trlTree = existsSync(join(root, '.tools', 'trl-src')) ? join(root, '.tools', 'trl-src') : join(sitePackages, 'trl');
const bigTree = ['transformers', 'trl', 'datasets', 'accelerate', 'peft'].map((p) => join(sitePackages, p)).filter(existsSync);

const trees = [
  { name: trlTree.endsWith('trl-src') ? 'TRL source tree' : 'TRL (installed package; put a checkout in .tools/trl-src for the full tree)', roots: [trlTree], goalMs: 300 },
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
    spawnSync('rg', ['-l', '-t', 'py', 'reward|completions|prompts|GRPO', ...tree.roots]);
    rg.push(performance.now() - t0);
  }
  const ours = median(cold);
  const floor = median(rg);
  rows.push({ tree: tree.name, files: last.files, rewards: last.rewards, ours, floor, goal: tree.goalMs, rss: last.rssMb });
}

const rechecks = ['typical', 'largest'].map((pick) =>
  ({ pick, ...JSON.parse(sh('node', [worker, JSON.stringify({ mode: 'recheck', pick, wasmDir: join(root, 'dist'), roots: [trlTree] })])) }));
const activations = [];
for (let i = 0; i < RUNS; i++) activations.push(JSON.parse(sh('node', [join(root, 'bench', 'activation.bench.js')])));

console.log('\nCold discovery (fresh process each run: parser load, walk, read, parse, resolve, check; median of %d)', RUNS);
for (const r of rows) {
  console.log(`  ${r.tree}\n    ${r.files} .py files, ${r.rewards} rewards found: ${fmt(r.ours)} (goal ≤ ${r.goal} ms: ${r.ours <= r.goal ? 'met' : 'MISSED'}), ` +
    `rg floor ${fmt(r.floor)}, ratio ours/rg ${(r.ours / r.floor).toFixed(2)}, peak RSS ${r.rss.toFixed(0)} MB`);
}
console.log('\nRe-check of one edited file in the TRL tree (update + report, 200 edits)');
for (const r of rechecks) {
  console.log(`  ${r.pick === 'typical' ? 'median-sized' : 'largest'} reward file ${r.file.replace(root, '')} (${(r.bytes / 1024).toFixed(0)} KB): ` +
    `p50 ${fmt(r.p50)}, p95 ${fmt(r.p95)} (goal ≤ 10 ms: ${r.p95 <= 10 ? 'met' : 'MISSED'}), max ${fmt(r.max)}`);
}
const act = median(activations.map((a) => a.totalMs));
console.log('\nExtension activation (require dist/extension.js + activate() against a stand-in vscode module; median of %d)', RUNS);
console.log(`  ${fmt(act)} (load ${fmt(median(activations.map((a) => a.loadMs)))}, activate ${fmt(median(activations.map((a) => a.activateMs)))}; goal ≤ 100 ms: ${act <= 100 ? 'met' : 'MISSED'})`);

const previews = JSON.parse(sh('node', [previewWorker, python, join(root, 'python', 'grpo_studio_worker.py')]));
console.log('\nReward previews (emoji + numpy rewards, the persistent worker against Python run directly)');
console.log(`  64 samples × 2 rewards, warm: p50 ${fmt(previews.warmP50)}, of which ${fmt(previews.overheadP50)} outside the functions (goal ≤ 50 ms: ${previews.overheadP50 <= 50 ? 'met' : 'MISSED'})`);
console.log(`  cold \`python -c\` importing and calling the same: ${fmt(previews.cold)}; ratio cold/warm ${(previews.cold / previews.warmP50).toFixed(1)}× (goal ≥ 10×: ${previews.cold / previews.warmP50 >= 10 ? 'met' : 'MISSED'})`);
console.log(`  10,000 samples: ${fmt(previews.big)} through the worker vs ${fmt(previews.loop)} for a plain in-process loop; ratio ${(previews.big / previews.loop).toFixed(2)} (goal ≤ 1.5: ${previews.big / previews.loop <= 1.5 ? 'met' : 'MISSED'})`);

const dashboardOutput = sh('node', ['--test', '--test-name-pattern=timings', 'test/webview/dashboard.test.mjs']);
const dashboard = JSON.parse(/DASHBOARD_TIMINGS (\{.*\})/.exec(dashboardOutput)?.[1] ?? '{}');
console.log('\nTraining dashboard (Chromium, the real webview bundle)');
if (dashboard.first !== undefined) {
  console.log(`  ${dashboard.rows.toLocaleString('en')}-row history: first chart drawn after ${fmt(dashboard.first)} (goal ≤ 1 s: ${dashboard.first <= 1000 ? 'met' : 'MISSED'}), all ${dashboard.charts} visible charts after ${fmt(dashboard.all)}`);
  console.log(`  a live step: median ${fmt(dashboard.live.total.median)}, p95 ${fmt(dashboard.live.total.p95)} of webview work (goal ≤ 16 ms: ${dashboard.live.total.p95 <= 16 ? 'met' : 'MISSED'}); longest frame p95 ${fmt(dashboard.live.frame.p95)}`);
} else {
  console.log('  (no timings: see test/webview/dashboard.test.mjs)');
}

const runner = runnerBench(python, root);
console.log('\nTraining runner vs plain TRL (python -m trl.scripts.grpo), tiny model on CPU, same config and seed');
console.log(`  ${runner.runner.toFixed(2)} steps/s vs ${runner.trl.toFixed(2)} steps/s over ${runner.steps} steps; ratio ${(runner.runner / runner.trl).toFixed(2)} (goal ≥ 0.97: ${runner.runner / runner.trl >= 0.97 ? 'met' : 'MISSED'})`);
