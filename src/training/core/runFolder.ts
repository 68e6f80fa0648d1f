import * as fs from 'node:fs';
import * as path from 'node:path';
import { EVENTS_FILE, listRuns, ownerPid, RunBusyError } from './runs';

/**
 * Where a run lives: `runs/<UTC timestamp>-<config name>` under the folder the runner runs in, the
 * name made as python/grpo_studio_runner.py makes it when it picks the folder itself. The one place
 * that names run folders, finds the one to resume and says whether a folder can take a run.
 */

const STAMP = /^\d{8}-\d{6}-/;

/** The config's part of a run folder name (the runner's `re.sub(r"[^\w.-]+", "-", stem)`). */
export function runName(configFile: string): string {
  return path.basename(configFile, path.extname(configFile)).replace(/[^\p{L}\p{N}_.-]+/gu, '-');
}

/** `<base>/runs/<timestamp>-<config name>`. */
export function newRunDir(base: string, configFile: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  return path.join(base, 'runs', `${stamp}-${runName(configFile)}`);
}

export interface Checkpoint {
  label: string;
  step: number;
  path: string;
  /** Why Trainer cannot resume from it (a save cut short by a crash or a full disk), if it cannot. */
  problem?: string;
}

const WEIGHTS = [
  'model.safetensors',
  'adapter_model.safetensors',
  'pytorch_model.bin',
  'model.safetensors.index.json',
  'pytorch_model.bin.index.json',
];

/** The runner's rule (python/grpo_studio_runner.py `_checkpoint_problem`): a trainer state and weights. */
function checkpointProblem(dir: string): string | undefined {
  try {
    JSON.parse(fs.readFileSync(path.join(dir, 'trainer_state.json'), 'utf8'));
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT'
      ? 'no trainer_state.json'
      : `trainer_state.json is unreadable (${(error as Error).message})`;
  }
  return WEIGHTS.some((name) => fs.existsSync(path.join(dir, name))) ? undefined : 'no model weights';
}

/** The checkpoints a run can resume from, newest first (`listCheckpoints` without the incomplete ones). */
export function completeCheckpoints(runDir: string): Checkpoint[] {
  return listCheckpoints(runDir).filter((c) => !c.problem);
}

/** `checkpoint-N` folders of a run, newest first, each with its problem when it cannot be resumed from. */
export function listCheckpoints(runDir: string): Checkpoint[] {
  let names: string[];
  try {
    names = fs.readdirSync(runDir);
  } catch {
    return [];
  }
  return names
    .map((name) => ({ label: name, step: Number(/^checkpoint-(\d+)$/.exec(name)?.[1] ?? NaN), path: path.join(runDir, name) }))
    .filter((c) => Number.isFinite(c.step) && fs.statSync(c.path).isDirectory())
    .sort((a, b) => b.step - a.step)
    .map((c) => {
      const problem = checkpointProblem(c.path);
      return problem ? { ...c, problem } : c;
    });
}

/** The newest run of exactly this config under `<base>/runs` that has a checkpoint. */
export function findResumableRun(base: string, configFile: string): string | undefined {
  const name = runName(configFile);
  const ofThisConfig = (dir: string) => STAMP.test(path.basename(dir)) && path.basename(dir).replace(STAMP, '') === name;
  return listRuns(path.join(base, 'runs')).find((dir) => ofThisConfig(dir) && completeCheckpoints(dir).length > 0);
}

/**
 * Why a run cannot go into `runDir`, if it cannot: a new run needs a new or empty folder (the
 * trainer writes config.json, README.md, checkpoints... into it), a resume an earlier run with a
 * checkpoint.
 */
export function runDirProblem(runDir: string, resume: boolean | undefined): string | undefined {
  const exists = fs.existsSync(runDir);
  if (exists && !fs.statSync(runDir).isDirectory()) return `--run-dir ${runDir} is a file`;
  const owner = exists ? ownerPid(runDir) : undefined;
  if (owner !== undefined) return new RunBusyError(runDir, owner).message;
  const entries = exists ? fs.readdirSync(runDir) : undefined;
  if (resume) {
    if (!entries?.includes(EVENTS_FILE)) return `--resume: ${runDir} holds no run; give the folder of an earlier run`;
    if (completeCheckpoints(runDir).length > 0) return undefined;
    const broken = listCheckpoints(runDir).map((c) => `${c.label}: ${c.problem}`);
    return broken.length
      ? `--resume: ${runDir} has no complete checkpoint (${broken.join('; ')}); train it afresh in another --run-dir`
      : `--resume: ${runDir} has no checkpoint yet (one is saved on stop and every save_steps); train it afresh in another --run-dir`;
  }
  if (entries?.includes(EVENTS_FILE)) return `${runDir} already holds a run: add --resume to continue it, or give another --run-dir`;
  if (entries?.length)
    return `--run-dir ${runDir} is not empty and holds no run: the trainer would overwrite its files; give a new or empty folder`;
  return undefined;
}
