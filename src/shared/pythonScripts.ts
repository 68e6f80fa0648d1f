import * as path from 'node:path';

/** The Python the extension ships in python/ (the reward worker, the TRL runner, the generator, the dry run, the ONNX exporter). */
export const PYTHON_SCRIPTS = {
  worker: 'grpo_studio_worker.py',
  runner: 'grpo_studio_runner.py',
  generate: 'grpo_studio_generate.py',
  dryRun: 'grpo_studio_dry_run.py',
  exportOnnx: 'grpo_studio_export_onnx.py',
} as const;

/** A shipped script's path, from the folder the package is installed in (dist/.. for the bundles). */
export function pythonScript(packageRoot: string, name: keyof typeof PYTHON_SCRIPTS): string {
  return path.join(packageRoot, 'python', PYTHON_SCRIPTS[name]);
}
