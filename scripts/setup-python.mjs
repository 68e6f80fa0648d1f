// Creates (or reuses) the Python environment for the runtime tests: .venv-test at the repository root,
// filled from python/requirements-test.txt. torch is installed on its own first, at the version pinned
// in that file, so that no later step can resolve an unpinned (multi-GB CUDA) torch.
//
//   import { ensurePythonEnv } from './setup-python.mjs';
//   const python = await ensurePythonEnv();   // absolute path of .venv-test/bin/python
//
// Run directly (`node scripts/setup-python.mjs`), it prints that path on stdout; all tool output goes to stderr.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const venvDir = path.join(root, '.venv-test');
const venvPython = path.join(venvDir, 'bin', 'python');
const requirements = path.join(root, 'python', 'requirements-test.txt');
const stampFile = path.join(venvDir, '.requirements.sha256');

function run(command, args) {
  process.stderr.write(`$ ${command} ${args.join(' ')}\n`);
  return new Promise((resolve, reject) => {
    // No shell: arguments go to the program as they are. Output is streamed to our stderr.
    const child = spawn(command, args, { cwd: root, stdio: ['ignore', process.stderr, process.stderr] });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? `exit code ${code}`})`));
    });
  });
}

export async function ensurePythonEnv() {
  const text = readFileSync(requirements, 'utf8');
  const hash = createHash('sha256').update(text).digest('hex');
  if (existsSync(venvPython) && existsSync(stampFile) && readFileSync(stampFile, 'utf8').trim() === hash) {
    return venvPython;
  }

  const torchPin = text
    .split('\n')
    .map((line) => line.trim())
    .find((line) => /^torch==/.test(line));
  if (!torchPin) throw new Error(`${requirements} must pin torch (torch==<version>)`);

  if (!existsSync(venvPython)) {
    await run(process.env.PYTHON ?? 'python3', ['-m', 'venv', venvDir]);
  }
  const pip = ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input'];
  await run(venvPython, [...pip, torchPin]);
  await run(venvPython, [...pip, '-r', requirements]);
  writeFileSync(stampFile, `${hash}\n`);
  return venvPython;
}

if (process.argv[1] && pathToFileURL(path.resolve(process.argv[1])).href === import.meta.url) {
  ensurePythonEnv().then(
    (python) => console.log(python),
    (error) => {
      console.error(error.message);
      process.exitCode = 1;
    },
  );
}
