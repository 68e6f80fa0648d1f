// The example workspace ready to train: the test Python environment and run.tiny.yaml's model,
// built locally (no model hub); the harness's workspace copy takes the model along.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { ensurePythonEnv } from '../../scripts/setup-python.mjs';
import { REPO_ROOT } from './harness.mjs';

export const python = await ensurePythonEnv();
execFileSync(
  python,
  [
    path.join(REPO_ROOT, 'test', 'python', 'tiny_model.py'),
    '--out',
    path.join(REPO_ROOT, 'examples', 'emoji-length', 'models', 'tiny-qwen2'),
  ],
  { stdio: 'ignore' },
);

export const trainingOptions = {
  workspace: 'examples/emoji-length',
  settings: { 'grpoStudio.pythonPath': python },
  timeoutMs: 240000,
};
