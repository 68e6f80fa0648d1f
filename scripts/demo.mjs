// `npm run demo`: packages GRPO Studio, installs it into a persistent code-server profile
// (.tools/demo/), and serves VS Code on http://127.0.0.1:<port>/ with examples/emoji-length/ open.
// Port: $GRPO_DEMO_PORT or 8080, or the next free one. Ctrl+C stops code-server.
//
//   node scripts/demo.mjs [--no-package] [--vsix path] [--folder path]

import { existsSync } from 'node:fs';
import path from 'node:path';
import { hostVsixPath, packageHostVsix } from './package.mjs';
import { ensureCodeServer, exec, REPO_ROOT, TOOLS_DIR } from './setup-code-server.mjs';
import { ensurePythonEnv } from './setup-python.mjs';
import { findPortFrom, onInterrupt, startCodeServer } from '../test/e2e/harness.mjs';

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const value = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);

const DEMO_DIR = path.join(TOOLS_DIR, 'demo');
const folder = path.resolve(REPO_ROOT, value('--folder') ?? path.join('examples', 'emoji-length'));
let vsix = value('--vsix') ? path.resolve(value('--vsix')) : hostVsixPath();

async function main() {
  if (!existsSync(folder)) throw new Error(`${folder} does not exist`);
  if (!flag('--no-package') && !value('--vsix')) {
    console.log('demo: packaging for this platform');
    vsix = await packageHostVsix();
  }
  if (!existsSync(vsix)) throw new Error(`${vsix} not found`);
  const bin = await ensureCodeServer();
  // The example's rewards import `emoji`; the test environment has it (and TRL, for later features).
  const python = await ensurePythonEnv();
  // run.tiny.yaml trains a tiny model built locally (no model hub here).
  const model = path.join(REPO_ROOT, 'examples', 'emoji-length', 'models', 'tiny-qwen2');
  const built = await exec(python, [path.join(REPO_ROOT, 'test', 'python', 'tiny_model.py'), '--out', model], { cwd: REPO_ROOT });
  if (built.code !== 0) throw new Error(`building the tiny model failed (exit ${built.code})`);
  // GRPO: Sample Completions finds these tiny ONNX models (a causal LM, a reward model) in the example.
  const onnx = await exec(python, [path.join(REPO_ROOT, 'test', 'python', 'onnx_fixtures.py'), '--root', path.dirname(model)], {
    cwd: REPO_ROOT,
  });
  if (onnx.code !== 0) throw new Error(`building the tiny ONNX models failed (exit ${onnx.code})`);
  const wanted = Number(process.env.GRPO_DEMO_PORT || 8080);
  if (!Number.isInteger(wanted) || wanted <= 0 || wanted > 65535) throw new Error(`bad GRPO_DEMO_PORT ${process.env.GRPO_DEMO_PORT}`);
  const port = await findPortFrom(wanted);
  const server = await startCodeServer({
    bin,
    vsix,
    port,
    folder,
    userDataDir: path.join(DEMO_DIR, 'user-data'),
    settings: { 'grpoStudio.pythonPath': python },
    extensionsDir: path.join(DEMO_DIR, 'extensions'),
    logFile: path.join(DEMO_DIR, 'code-server.log'),
  });
  let interrupted = false;
  onInterrupt(() => {
    interrupted = true;
    return server.stop();
  });
  const url = server.urlFor(folder);
  const line = '='.repeat(Math.min(100, url.length + 4));
  console.log(
    `\n${line}\n  GRPO Studio demo (${server.extensions.join(', ')})\n\n  ${url}\n\n  (also http://127.0.0.1:${port}/ ; log: ${path.relative(REPO_ROOT, server.logFile)})\n  Press Ctrl+C to stop.\n${line}\n`,
  );
  if (port !== wanted) console.log(`demo: port ${wanted} was busy, using ${port}`);
  // Stay alive until code-server exits on its own or Ctrl+C (handled by onInterrupt).
  await new Promise((resolve) => {
    const timer = setInterval(() => {
      if (server.exited() && !interrupted) {
        clearInterval(timer);
        resolve();
      }
    }, 500);
  });
  console.error(`demo: code-server exited (${JSON.stringify(server.exited())}); see ${server.logFile}`);
  await server.stop();
  return 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`demo: ${err?.message ?? err}`);
    process.exit(1);
  },
);
