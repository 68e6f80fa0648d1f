import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Parser } from 'web-tree-sitter';
import { RewardIndex } from '../../discovery/core/rewardIndex';
import type { RewardFunction } from '../../discovery/core/types';
import { detectTrlProfile, type TrlProfile } from '../../discovery/core/trlProfile';
import { untranslated, type Localizer, type Range } from '../../shared/vocabulary';
import { LineCounter, parseDocument } from 'yaml';
import { checkRunConfig, type ConfigProblem, type TrlSchema } from './configCheck';
import { runConfigDatasetIssues } from './datasetCheck';
import {
  namedDataFiles,
  RUNNER_FIELDS,
  readRunConfig,
  resolveLike,
  rewardSpecs,
  searchDirs,
  type NamedDataFile,
  type RunConfigValues,
} from '../../shared/runConfig';

export interface PreflightIssue {
  severity: 'error' | 'warning' | 'info';
  message: string;
}

export interface Environment {
  python: string;
  /** Where that interpreter came from (a setting, the Python extension, .venv, PATH), for messages. */
  source?: string;
  /** How the user picks another one: the setting in the editor, an environment variable in the CLI. */
  chooser?: string;
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
export function preflightIssues(
  env: Environment,
  configFile: string,
  runsDir: string,
  cwd = path.dirname(runsDir),
  l10n: Localizer = untranslated,
): PreflightIssue[] {
  const issues = environmentIssues(env, l10n);
  let config: RunConfigValues = {};
  try {
    config = readRunConfig(configFile);
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    issues.push({ severity: 'error', message: code ? l10n.t('cannot read {0}: {1}', configFile, message) : message });
  }
  issues.push(...configPathIssues(config, configFile, cwd, l10n), ...runsDirIssues(runsDir, l10n));
  return issues;
}

function runsDirIssues(runsDir: string, l10n: Localizer): PreflightIssue[] {
  try {
    fs.mkdirSync(runsDir, { recursive: true });
    fs.accessSync(runsDir, fs.constants.W_OK);
    return [];
  } catch {
    return [{ severity: 'error', message: l10n.t('cannot write to {0}', runsDir) }];
  }
}

function environmentIssues(env: Environment, l10n: Localizer): PreflightIssue[] {
  const issues: PreflightIssue[] = [];
  const python = env.source ? `${env.python} (${env.source})` : env.python;
  for (const name of ['torch', 'transformers', 'trl', 'datasets', 'accelerate']) {
    if (!env.versions[name]) {
      issues.push({
        severity: 'error',
        message: l10n.t(
          '{0} is not installed in {1}: pip install {0} (or choose another interpreter with {2})',
          name,
          python,
          env.chooser ?? 'grpoStudio.pythonPath',
        ),
      });
    }
  }
  issues.push(
    env.cuda
      ? {
          severity: 'info',
          message: env.gpuMemory.length
            ? l10n.t(
                'CUDA: {0}; GPU memory used {1}',
                env.devices.join(', '),
                env.gpuMemory.map((m) => `${m.used}/${m.total} MiB`).join(', '),
              )
            : l10n.t('CUDA: {0}', env.devices.join(', ')),
        }
      : {
          severity: 'warning',
          message: l10n.t('No CUDA device visible: training runs on the CPU (fine for tiny models, slow for real ones)'),
        },
  );
  return issues;
}

/** The local data files a config names that are in none of the folders the runner reads them from. */
export function missingDataFiles(
  config: RunConfigValues,
  configFile: string,
  cwd: string,
  l10n: Localizer,
): { file: NamedDataFile; message: string }[] {
  const dirs = searchDirs(cwd, configFile);
  const where = dirs.join(l10n.t(', then '));
  return namedDataFiles(config, dirs)
    .filter((file) => !file.resolved)
    .map((file) => ({
      file,
      message: l10n.t(
        '{0}: {1} does not exist (relative paths are read from {2}); fix the path or create the file',
        file.key,
        file.value,
        where,
      ),
    }));
}

/** The same, as problems placed on the YAML values that name the files (the editor's squiggles). */
export function dataFileProblems(text: string, configFile: string, cwd: string, l10n: Localizer): ConfigProblem[] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  const values = doc.toJS() as unknown;
  if (!values || typeof values !== 'object' || Array.isArray(values)) return [];
  return missingDataFiles(values as RunConfigValues, configFile, cwd, l10n).flatMap(({ file, message }) => {
    // `datasets[0].data_files.train[1]` → datasets, 0, data_files, train, 1
    const at = file.key.split('.').flatMap((part) => {
      const [name, ...indices] = part.split(/[[\]]+/).filter(Boolean);
      return [name, ...indices.map(Number)];
    });
    const node = doc.getIn(at, true) as { range?: [number, number, number] } | undefined;
    if (!node?.range) return [];
    const [start, end] = [lineCounter.linePos(node.range[0]), lineCounter.linePos(node.range[1])];
    return [
      {
        severity: 'error' as const,
        message,
        range: { start: { line: start.line - 1, character: start.col - 1 }, end: { line: end.line - 1, character: end.col - 1 } },
      },
    ];
  });
}

/** Every local data file the config names exists; reward models are loadable by TRL; a reward is named. */
function configPathIssues(config: RunConfigValues, configFile: string, cwd: string, l10n: Localizer): PreflightIssue[] {
  const issues: PreflightIssue[] = missingDataFiles(config, configFile, cwd, l10n).map(({ message }) => ({ severity: 'error', message }));
  const dirs = searchDirs(cwd, configFile);
  for (const entry of [config.reward_model_name_or_path, ...rewardSpecs(config)]) {
    if (typeof entry !== 'string' || entry.includes('::')) continue;
    const dir = resolveLike(entry, dirs);
    if (path.isAbsolute(dir) && fs.existsSync(dir) && fs.statSync(dir).isDirectory() && !hasTorchWeights(dir)) {
      issues.push({
        severity: 'error',
        message: l10n.t(
          'reward model {0} has no PyTorch weights (*.safetensors or pytorch_model.bin): GRPOTrainer loads reward models with from_pretrained; an ONNX export is for previews only',
          entry,
        ),
      });
    }
  }
  const model = typeof config.model_name_or_path === 'string' ? resolveLike(config.model_name_or_path, dirs) : undefined;
  if (model && path.isAbsolute(model) && fs.existsSync(model) && fs.statSync(model).isDirectory() && !hasTokenizer(model)) {
    issues.push({
      severity: 'error',
      message: l10n.t(
        'model {0} has no tokenizer files (tokenizer.json, tokenizer_config.json, tokenizer.model or vocab.json): save the tokenizer next to the model (tokenizer.save_pretrained) or point model_name_or_path at a folder that has one',
        String(config.model_name_or_path),
      ),
    });
  }
  if (!config.reward_funcs && !config.reward_model_name_or_path) {
    issues.push({ severity: 'error', message: l10n.t('the config names no reward: add reward_funcs (dotted paths or file.py::name)') });
  }
  return issues;
}

function hasTokenizer(dir: string): boolean {
  return ['tokenizer.json', 'tokenizer_config.json', 'tokenizer.model', 'vocab.json'].some((name) => fs.existsSync(path.join(dir, name)));
}

function hasTorchWeights(dir: string): boolean {
  return fs.readdirSync(dir).some((name) => /\.safetensors$|^pytorch_model.*\.bin$/.test(name));
}

/** A pre-flight finding with where it is, when it is in a file the user can open. */
export interface PreflightFinding extends PreflightIssue {
  location?: { file: string; range: Range };
}

export interface PreflightOptions {
  /** The run config, or the training script (`script: true`). */
  configFile: string;
  /** A user's training script: its rewards and the interpreter are checked; there is no config to read. */
  script?: boolean;
  /** The interpreter that will train. */
  python: string;
  /** Where it came from, named in the messages about it. */
  pythonSource?: string;
  /** How to choose another interpreter, for messages; the editor's setting when not given. */
  pythonChooser?: string;
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
  /** The TRL release that will run (the editor's); else read from `python`'s environment or the roots' pins. */
  trl?: TrlProfile;
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
  const trl = options.trl ?? detectTrlProfile({ python: options.python, roots: options.roots });
  const configFindings: PreflightFinding[] = options.script
    ? []
    : checkRunConfig(fs.readFileSync(configFile, 'utf8'), options.schema, RUNNER_FIELDS, options.l10n, trl)
        .filter((p) => p.severity === 'error')
        .map((p) => ({ severity: 'error', message: p.message, location: { file: configFile, range: p.range } }));
  const rewardFindings: PreflightFinding[] = configRewards(options, trl).flatMap((r) =>
    r.problems
      .filter((p) => p.severity === 'error')
      .map((p) => ({ severity: 'error' as const, message: `${r.name}: ${p.message}`, location: { file: p.file, range: p.range } })),
  );
  // A reward error first: it points at the line of Python to fix, and the config may be fine.
  if (rewardFindings.length || configFindings.length) return { findings: [...rewardFindings, ...configFindings] };
  const env = { ...(await probeEnvironment(options.python)), source: options.pythonSource, chooser: options.pythonChooser };
  if (options.script) return { findings: [...environmentIssues(env, options.l10n), ...runsDirIssues(options.runsDir, options.l10n)], env };
  const findings: PreflightFinding[] = [
    ...preflightIssues(env, configFile, options.runsDir, options.cwd, options.l10n),
    ...runConfigDatasetIssues(configFile, { roots: options.roots, parser: options.parser, l10n: options.l10n }),
  ];
  return { findings, env };
}

/** The rewards the config names (or the script wires into its trainers), as discovery sees them. */
function configRewards(options: PreflightOptions, trl: TrlProfile): readonly RewardFunction[] {
  let rewards = options.rewards;
  if (!rewards) {
    const index = new RewardIndex({
      roots: options.roots,
      parser: options.parser,
      l10n: options.l10n,
      format: 'auto',
      byShape: false,
      maxFileBytes: 4 << 20,
      trl,
    });
    index.scan();
    index.update(options.configFile);
    rewards = index.report().rewards;
  }
  return rewards.filter((r) => r.references.some((ref) => ref.file === options.configFile));
}
