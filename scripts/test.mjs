// `npm test`: builds, then runs every suite (or the ones named: unit, python, onnx, webview, package, e2e).
// Each suite installs what it needs on a fresh machine (Python venv, code-server, Chromium).
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { missingTranslations } from './l10n.mjs';
import { ensurePythonEnv } from './setup-python.mjs';

const root = new URL('..', import.meta.url).pathname;
const requested = process.argv.slice(2);
const suites = requested.length ? requested : ['unit', 'python', 'onnx', 'webview', 'package', 'e2e'];

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', ...options });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${result.status ?? result.signal}`);
}

function step(name) {
  console.log(`\n=== ${name} ===`);
}

async function unit() {
  step('typecheck');
  run('npx', ['tsc', '-p', '.']);
  run('npx', ['tsc', '-p', 'webview']);
  step('lint (ESLint with the layering rules) and format (Prettier)');
  run('npx', ['eslint', '.']);
  run('npx', ['prettier', '--check', '.', '--log-level', 'warn']);
  step('translations');
  const missing = missingTranslations();
  if (Object.keys(missing).length) throw new Error(`untranslated messages: ${JSON.stringify(missing, null, 2)}`);
  step('unit tests');
  await runNodeTests('unit');
}

/** Bundles test/<suite>/*.test.ts into out/<suite>/ and runs them with node's test runner. */
async function runNodeTests(suite, env = {}) {
  const outdir = join(root, 'out', suite);
  rmSync(outdir, { recursive: true, force: true });
  const entryPoints = readdirSync(join(root, 'test', suite))
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => join(root, 'test', suite, f));
  await esbuild.build({
    entryPoints,
    outdir,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: 'inline',
    external: ['vscode', 'onnxruntime-node'],
    define: { 'import.meta.url': 'importMetaUrl' },
    banner: { js: "const importMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
    logLevel: 'warning',
  });
  const files = readdirSync(outdir)
    .filter((f) => f.endsWith('.js'))
    .map((f) => join(outdir, f));
  run('node', ['--test', '--test-reporter=spec', ...files], { env: { ...process.env, ...env } });
}

async function python() {
  step('python environment');
  const py = await ensurePythonEnv();
  await esbuild.build({
    entryPoints: ['advantages_cli.ts', 'events_cli.ts', 'run_name_cli.ts'].map((name) => join(root, 'test', 'python', 'fidelity', name)),
    outdir: join(root, 'out', 'fidelity'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    logLevel: 'warning',
  });
  step('python tests (static verdicts against the real GRPOTrainer)');
  run(py, ['-m', 'pytest', 'test/python', '-q']);
}

async function onnx() {
  step('ONNX test models (built locally by test/python/onnx_fixtures.py)');
  const py = await ensurePythonEnv();
  run(py, ['test/python/onnx_fixtures.py'], { stdio: ['ignore', 'ignore', 'inherit'] });
  step('ONNX sampling and reward models against Python references');
  await runNodeTests('onnx', { GRPO_TEST_PYTHON: py });
}

async function webview() {
  step('webview in Chromium');
  run('node', ['--test', '--test-reporter=spec', 'test/webview/rewardPreview.test.mjs', 'test/webview/dashboard.test.mjs']);
}

async function e2e() {
  step('end-to-end in code-server');
  const { main } = await import('../test/e2e/run.mjs');
  const code = await main();
  if (code !== 0) throw new Error(`end-to-end tests failed (exit ${code})`);
}

async function packaging() {
  step('platform .vsix (scripts/package.mjs) unpacked and run');
  run('node', ['--test', '--test-reporter=spec', '--test-timeout=900000', 'test/package/vsix.test.mjs']);
}

// `package` builds production bundles and the ~18 MB linux .vsix, then unpacks and runs it.
const table = { unit, python, onnx, webview, e2e, package: packaging };
try {
  step('build');
  run('node', ['esbuild.mjs']);
  for (const name of suites) {
    if (!table[name]) throw new Error(`unknown suite '${name}' (expected ${Object.keys(table).join(', ')})`);
    await table[name]();
  }
  console.log(`\nAll requested suites passed: ${suites.join(', ')}`);
} catch (error) {
  console.error(`\nFAILED: ${error instanceof Error ? error.message : error}`);
  process.exitCode = 1;
}
