import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseDocument } from 'yaml';
import { resolveLike } from './compare';

export interface PreflightIssue {
  severity: 'error' | 'warning' | 'info';
  message: string;
}

export interface Environment {
  python: string;
  versions: Record<string, string | null>;
  cuda: boolean;
  devices: string[];
  /** Free/total GPU memory in MiB per GPU, from nvidia-smi when present. */
  gpuMemory: { used: number; total: number }[];
}

const PROBE = `
import importlib, json, platform, sys
out = {"python": platform.python_version(), "versions": {}, "cuda": False, "devices": []}
for name in ("torch", "transformers", "trl", "datasets", "accelerate", "peft"):
    try:
        out["versions"][name] = importlib.import_module(name).__version__
    except Exception:
        out["versions"][name] = None
try:
    import torch
    out["cuda"] = torch.cuda.is_available()
    out["devices"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] if out["cuda"] else ["cpu"]
except Exception:
    pass
print(json.dumps(out))
`;

function run(file: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${error.message}${stderr ? `\n${stderr}` : ''}`));
      else resolve(stdout);
    });
  });
}

/** What the interpreter has: torch/transformers/trl versions, CUDA devices, GPU memory. */
export async function probeEnvironment(python: string): Promise<Environment> {
  const probe = JSON.parse((await run(python, ['-c', PROBE], 120_000)).trim().split('\n').pop() ?? '{}');
  let gpuMemory: Environment['gpuMemory'] = [];
  try {
    const csv = await run('nvidia-smi', ['--query-gpu=memory.used,memory.total', '--format=csv,noheader,nounits'], 10_000);
    gpuMemory = csv.trim().split('\n').filter(Boolean).map((line) => {
      const [used, total] = line.split(',').map((v) => Number(v.trim()));
      return { used, total };
    });
  } catch {
    // No NVIDIA driver: a CPU machine.
  }
  return { python, versions: { python: probe.python, ...probe.versions }, cuda: probe.cuda, devices: probe.devices ?? [], gpuMemory };
}

/**
 * Checks that need no model loading: packages, device, dataset file, reward models, output folder.
 * `cwd` is where the runner will run (the workspace folder): it reads relative paths from there
 * first, then next to the config, and so does this.
 */
export function preflightIssues(env: Environment, configFile: string, runsDir: string, cwd = path.dirname(runsDir)): PreflightIssue[] {
  const issues: PreflightIssue[] = [];
  for (const name of ['torch', 'transformers', 'trl', 'datasets', 'accelerate']) {
    if (!env.versions[name]) {
      issues.push({ severity: 'error', message: `${name} is not installed in ${env.python}: pip install ${name === 'torch' ? 'torch' : name} (or choose another interpreter with grpoStudio.pythonPath)` });
    }
  }
  issues.push(env.cuda
    ? { severity: 'info', message: `CUDA: ${env.devices.join(', ')}${env.gpuMemory.length ? `; GPU memory used ${env.gpuMemory.map((m) => `${m.used}/${m.total} MiB`).join(', ')}` : ''}` }
    : { severity: 'warning', message: 'No CUDA device visible: training runs on the CPU (fine for tiny models, slow for real ones)' });
  let config: Record<string, unknown> = {};
  try {
    const doc = parseDocument(fs.readFileSync(configFile, 'utf8'));
    if (doc.errors.length) issues.push({ severity: 'error', message: `${path.basename(configFile)} is not valid YAML: ${doc.errors[0].message}` });
    config = (doc.toJS() ?? {}) as Record<string, unknown>;
  } catch (error) {
    issues.push({ severity: 'error', message: `cannot read ${configFile}: ${(error as Error).message}` });
  }
  const configDir = path.dirname(configFile);
  const resolve = (value: string) => {
    const found = resolveLike(value, [cwd, configDir]);
    return path.isAbsolute(found) && fs.existsSync(found) ? found : undefined;
  };
  for (const key of ['dataset_name', 'dataset_path']) {
    const value = config[key];
    if (typeof value === 'string' && /\.(jsonl?|csv|parquet)$/i.test(value) && !resolve(value)) {
      const where = cwd === configDir ? cwd : `${cwd}, then ${configDir}`;
      issues.push({ severity: 'error', message: `${key}: ${value} does not exist (relative paths are read from ${where}); fix the path or create the file` });
    }
  }
  const entries = Array.isArray(config.reward_funcs) ? config.reward_funcs : [config.reward_funcs];
  for (const entry of [config.reward_model_name_or_path, ...entries]) {
    const dir = typeof entry === 'string' && !entry.includes('::') ? resolve(entry) : undefined;
    if (dir && fs.existsSync(dir) && fs.statSync(dir).isDirectory() && !hasTorchWeights(dir)) {
      issues.push({ severity: 'error', message: `reward model ${entry} has no PyTorch weights (*.safetensors or pytorch_model.bin): GRPOTrainer loads reward models with from_pretrained; an ONNX export is for previews only` });
    }
  }
  if (!config.reward_funcs && !config.reward_model_name_or_path) {
    issues.push({ severity: 'error', message: 'the config names no reward: add reward_funcs (dotted paths or file.py::name)' });
  }
  try {
    fs.mkdirSync(runsDir, { recursive: true });
    fs.accessSync(runsDir, fs.constants.W_OK);
  } catch {
    issues.push({ severity: 'error', message: `cannot write to ${runsDir}` });
  }
  return issues;
}

function hasTorchWeights(dir: string): boolean {
  return fs.readdirSync(dir).some((name) => /\.safetensors$|^pytorch_model.*\.bin$/.test(name));
}
