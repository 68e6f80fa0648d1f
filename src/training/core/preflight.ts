import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Parser } from 'web-tree-sitter';
import { RewardIndex } from '../../discovery/core/rewardIndex';
import type { RewardFunction } from '../../discovery/core/types';
import type { Localizer, Range } from '../../shared/vocabulary';
import { checkRunConfig, type TrlSchema } from './configCheck';
import { runConfigDatasetIssues } from './datasetCheck';
import { namedDataFiles, readRunConfig, resolveLike, rewardSpecs, searchDirs, type RunConfigValues } from '../../shared/runConfig';

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
    gpuMemory = csv
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [used, total] = line.split(',').map((v) => Number(v.trim()));
        return { used, total };
      });
  } catch {
    // No NVIDIA driver: a CPU machine.
  }
  return { python, versions: { python: probe.python, ...probe.versions }, cuda: probe.cuda, devices: probe.devices ?? [], gpuMemory };
}

/**
 * Checks that need no model loading: packages, device, dataset files, reward models, output folder.
 * `cwd` is where the runner will run (the workspace folder): it reads relative paths from there
 * first, then next to the config, and so does this.
 */
export function preflightIssues(env: Environment, configFile: string, runsDir: string, cwd = path.dirname(runsDir)): PreflightIssue[] {
  const issues = environmentIssues(env);
  let config: RunConfigValues = {};
  try {
    config = readRunConfig(configFile);
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    issues.push({ severity: 'error', message: code ? `cannot read ${configFile}: ${message}` : message });
  }
  issues.push(...configPathIssues(config, configFile, cwd));
  try {
    fs.mkdirSync(runsDir, { recursive: true });
    fs.accessSync(runsDir, fs.constants.W_OK);
  } catch {
    issues.push({ severity: 'error', message: `cannot write to ${runsDir}` });
  }
  return issues;
}

function environmentIssues(env: Environment): PreflightIssue[] {
  const issues: PreflightIssue[] = [];
  for (const name of ['torch', 'transformers', 'trl', 'datasets', 'accelerate']) {
    if (!env.versions[name]) {
      issues.push({
        severity: 'error',
        message: `${name} is not installed in ${env.python}: pip install ${name} (or choose another interpreter with grpoStudio.pythonPath)`,
      });
    }
  }
  issues.push(
    env.cuda
      ? {
          severity: 'info',
          message: `CUDA: ${env.devices.join(', ')}${env.gpuMemory.length ? `; GPU memory used ${env.gpuMemory.map((m) => `${m.used}/${m.total} MiB`).join(', ')}` : ''}`,
        }
      : { severity: 'warning', message: 'No CUDA device visible: training runs on the CPU (fine for tiny models, slow for real ones)' },
  );
  return issues;
}

/** Every local data file the config names exists; reward models are loadable by TRL; a reward is named. */
function configPathIssues(config: RunConfigValues, configFile: string, cwd: string): PreflightIssue[] {
  const issues: PreflightIssue[] = [];
  const dirs = searchDirs(cwd, configFile);
  const where = dirs.join(', then ');
  for (const file of namedDataFiles(config, dirs)) {
    if (!file.resolved)
      issues.push({
        severity: 'error',
        message: `${file.key}: ${file.value} does not exist (relative paths are read from ${where}); fix the path or create the file`,
      });
  }
  for (const entry of [config.reward_model_name_or_path, ...rewardSpecs(config)]) {
    if (typeof entry !== 'string' || entry.includes('::')) continue;
    const dir = resolveLike(entry, dirs);
    if (path.isAbsolute(dir) && fs.existsSync(dir) && fs.statSync(dir).isDirectory() && !hasTorchWeights(dir)) {
      issues.push({
        severity: 'error',
        message: `reward model ${entry} has no PyTorch weights (*.safetensors or pytorch_model.bin): GRPOTrainer loads reward models with from_pretrained; an ONNX export is for previews only`,
      });
    }
  }
  if (!config.reward_funcs && !config.reward_model_name_or_path) {
    issues.push({ severity: 'error', message: 'the config names no reward: add reward_funcs (dotted paths or file.py::name)' });
  }
  return issues;
}

function hasTorchWeights(dir: string): boolean {
  return fs.readdirSync(dir).some((name) => /\.safetensors$|^pytorch_model.*\.bin$/.test(name));
}

/** A pre-flight finding with where it is, when it is in a file the user can open. */
export interface PreflightFinding extends PreflightIssue {
  location?: { file: string; range: Range };
}

export interface PreflightOptions {
  configFile: string;
  /** The interpreter that will train. */
  python: string;
  /** Where the runner runs (the workspace folder; the CLI's working folder). */
  cwd: string;
  /** Where discovery looks for the config's rewards: `cwd` first. */
  roots: string[];
  /** The folder the run folder goes in. */
  runsDir: string;
  schema: TrlSchema;
  parser: Parser;
  l10n: Localizer;
  /** The workspace's rewards when an index already knows them (the editor's); else they are found now. */
  rewards?: readonly RewardFunction[];
}

export interface PreflightResult {
  /** Errors first stop the run; warnings and infos are worth a line in the log. */
  findings: PreflightFinding[];
  env?: Environment;
}

/**
 * Everything checked before a run starts, in the order a user fixes things, each failure with its
 * fix: the config against TRL's fields, the rewards it names against TRL's calling convention, then
 * the interpreter, the data files, reward models, the dataset's columns and the output folder.
 * A stage with errors ends the check: later stages would only repeat them. The editor and the CLI
 * both run exactly this.
 */
export async function runPreflight(options: PreflightOptions): Promise<PreflightResult> {
  const { configFile } = options;
  const configFindings: PreflightFinding[] = checkRunConfig(fs.readFileSync(configFile, 'utf8'), options.schema)
    .filter((p) => p.severity === 'error')
    .map((p) => ({ severity: 'error', message: p.message, location: { file: configFile, range: p.range } }));
  const rewardFindings: PreflightFinding[] = configRewards(options).flatMap((r) =>
    r.problems
      .filter((p) => p.severity === 'error')
      .map((p) => ({ severity: 'error' as const, message: `${r.name}: ${p.message}`, location: { file: p.file, range: p.range } })),
  );
  // A reward error first: it points at the line of Python to fix, and the config may be fine.
  if (rewardFindings.length || configFindings.length) return { findings: [...rewardFindings, ...configFindings] };
  const env = await probeEnvironment(options.python);
  const findings: PreflightFinding[] = [
    ...preflightIssues(env, configFile, options.runsDir, options.cwd),
    ...runConfigDatasetIssues(configFile, { roots: options.roots, parser: options.parser, l10n: options.l10n }),
  ];
  return { findings, env };
}

/** The rewards the config names, as discovery sees them. */
function configRewards(options: PreflightOptions): readonly RewardFunction[] {
  let rewards = options.rewards;
  if (!rewards) {
    const index = new RewardIndex({
      roots: options.roots,
      parser: options.parser,
      l10n: options.l10n,
      format: 'auto',
      byShape: false,
      maxFileBytes: 4 << 20,
    });
    index.scan();
    index.update(options.configFile);
    rewards = index.report().rewards;
  }
  return rewards.filter((r) => r.references.some((ref) => ref.file === options.configFile));
}
