import * as fs from 'node:fs';
import * as path from 'node:path';
import { compareVersions, KNOWN_RELEASES, NEWEST_KNOWN } from '../../shared/trlReleases';

/**
 * What the TRL release that will run the code passes to reward functions and accepts back, and
 * where that release came from. Facts read from each release's own `trl/trainer/grpo_trainer.py`
 * (`_calculate_rewards` / `_generate_and_score_completions`; wheels from PyPI, `pip download
 * trl==X --no-deps`):
 *
 * | from   | change                                                              |
 * | 0.14.0 | `prompts=`, `completions=` and every dataset column by keyword       |
 * | 0.16.0 | a reward may return None for a sample                                |
 * | 0.18.0 | `completion_ids=`                                                    |
 * | 0.20.0 | `trainer_state=`                                                     |
 * | 0.27.0 | `async def` rewards are awaited (before, the coroutine is the result) |
 * | 1.0.0  | `log_extra=`, `log_metric=`                                          |
 * | 1.9.0  | rewards without `__name__` (`functools.partial`, callable instances)  |
 * | 1.10.0 | a wrong number of rewards raises (before, one reward is broadcast)   |
 */
export interface TrlProfile {
  version: string;
  /** Where the version came from, for messages: "--trl-version", "installed in .venv/bin/python", "pinned in requirements.txt". */
  source: string;
  /** The keywords TRL passes besides the dataset columns, in its order. */
  keywords: string[];
  awaitsAsync: boolean;
  /** The result is read item by item, None becoming NaN (before, it goes to torch.tensor as it is: a single number is broadcast, a generator raises). */
  acceptsNone: boolean;
  /** GRPOTrainer.__init__ no longer reads `reward_func.__name__` (before, a partial raises AttributeError). */
  acceptsNameless: boolean;
  /** A reward list of the wrong length raises ValueError (before, a single reward is broadcast to every completion). */
  checksLength: boolean;
  /** The trainer class whose call this is, where it differs from GRPOTrainer's. */
  trainer?: string;
  /** Rewards are scored in a spawned process, so they must pickle: no lambdas, no closures. */
  needsPicklable?: boolean;
}

/**
 * The profile for the rewards of one trainer call. TRL's experimental AsyncGRPOTrainer (from 1.0.0)
 * scores in a spawned child process and passes only `prompts`, `completions`, `completion_ids` and
 * the dataset columns (trl/experimental/async_grpo/async_rollout_worker.py, `_score_group`);
 * RLOOTrainer calls rewards exactly as GRPOTrainer does.
 */
export function trainerProfile(profile: TrlProfile, trainer: string): TrlProfile {
  if (!/(^|\.)AsyncGRPOTrainer$/.test(trainer)) return profile;
  return {
    ...profile,
    trainer: 'AsyncGRPOTrainer',
    keywords: profile.keywords.filter((k) => ['prompts', 'completions', 'completion_ids'].includes(k)),
    needsPicklable: true,
  };
}

/** The keywords TRL passes every reward besides the dataset columns, with the first release that passes each. */
export const KEYWORDS_SINCE: Record<string, string> = {
  prompts: '0.14.0',
  completions: '0.14.0',
  completion_ids: '0.18.0',
  trainer_state: '0.20.0',
  log_extra: '1.0.0',
  log_metric: '1.0.0',
};

export function profileFor(version: string, source: string): TrlProfile {
  const atLeast = (release: string) => compareVersions(version, release) >= 0;
  return {
    version,
    source,
    keywords: Object.keys(KEYWORDS_SINCE).filter((keyword) => atLeast(KEYWORDS_SINCE[keyword])),
    awaitsAsync: atLeast('0.27.0'),
    acceptsNone: atLeast('0.16.0'),
    acceptsNameless: atLeast('1.9.0'),
    checksLength: atLeast('1.10.0'),
  };
}

export const NEWEST_PROFILE = profileFor(NEWEST_KNOWN, 'the newest release GRPO Studio knows');

/** `trl==0.22.2`, `"trl>=0.18.2,!=0.19.0,<=0.24.0"`, `trl ~= 0.20`: the specifier list after the name. */
const REQUIREMENT = /(?:^|[\s"'[,(!%])trl\s*((?:(?:==|>=|<=|~=|!=|<|>)\s*[0-9][\w.*]*\s*,?\s*)+)/gim;

/** The newest known release a specifier list admits (`==X` admits X even when unknown here). */
export function resolveSpecifiers(specifiers: string): string | undefined {
  const clauses = [...specifiers.matchAll(/(==|>=|<=|~=|!=|<|>)\s*([0-9][\w.*]*)/g)].map(([, op, v]) => [op, v] as const);
  const exact = clauses.find(([op, v]) => op === '==' && !v.includes('*'));
  if (exact) return exact[1];
  const admits = (release: string) =>
    clauses.every(([op, v]) => {
      const c = compareVersions(release, v.replace(/\.\*$/, ''));
      switch (op) {
        case '>=':
          return c >= 0;
        case '>':
          return c > 0;
        case '<=':
          return c <= 0;
        case '<':
          return c < 0;
        case '!=':
          return c !== 0;
        case '~=': {
          const base = v.split('.');
          const upper = [...base.slice(0, -2), String((parseInt(base[base.length - 2] ?? '0', 10) || 0) + 1)].join('.');
          return c >= 0 && compareVersions(release, upper) < 0;
        }
        default:
          return release.startsWith(v.replace(/\.\*$/, ''));
      }
    });
  return [...KNOWN_RELEASES].reverse().find(admits);
}

const PIN_FILES = /^(requirements[\w.-]*\.txt|pyproject\.toml|setup\.cfg|environment\.ya?ml)$/i;

/**
 * The TRL version that will run the code, in this order: the one asked for, the interpreter's
 * installed `trl` (its dist-info metadata, read without running Python), a pin in the workspace
 * (requirement files, pyproject.toml, setup.cfg, environment.yml, `pip install` lines in notebook
 * cells), else the newest release known here. A range resolves to the newest known release it admits.
 */
export function detectTrlProfile(options: {
  explicit?: { version: string; source: string };
  python?: string;
  roots: string[];
}): TrlProfile {
  if (options.explicit) return profileFor(options.explicit.version, options.explicit.source);
  const installed = options.python ? installedTrl(options.python) : undefined;
  if (installed) return profileFor(installed, `installed in ${options.python}`);
  for (const root of options.roots) {
    const pinned = pinIn(root);
    if (pinned) return profileFor(pinned.version, pinned.source);
  }
  return NEWEST_PROFILE;
}

/**
 * `trl-X.dist-info/METADATA` in the site-packages of the environment `python` belongs to; nothing
 * for a bare command name (`python3`), whose environment is not known without running it.
 */
export function installedTrl(python: string): string | undefined {
  if (!python.includes('/') && !python.includes('\\')) return undefined;
  const env = path.dirname(path.dirname(path.resolve(python)));
  const libs = [path.join(env, 'Lib', 'site-packages')];
  try {
    for (const lib of fs.readdirSync(path.join(env, 'lib')))
      if (/^python3/.test(lib)) libs.push(path.join(env, 'lib', lib, 'site-packages'));
  } catch {}
  for (const lib of libs) {
    let entries: string[];
    try {
      entries = fs.readdirSync(lib);
    } catch {
      continue;
    }
    const info = entries.find((e) => /^trl-[0-9][\w.]*\.dist-info$/.test(e));
    if (!info) continue;
    try {
      const version = /^Version:\s*(\S+)/m.exec(fs.readFileSync(path.join(lib, info, 'METADATA'), 'utf8'))?.[1];
      if (version) return version;
    } catch {}
    return /^trl-(.+)\.dist-info$/.exec(info)?.[1];
  }
  return undefined;
}

/** A pin in the folder's own files (not its subfolders' virtual environments), the first found. */
function pinIn(root: string): { version: string; source: string } | undefined {
  let names: string[];
  try {
    names = fs.readdirSync(root).sort();
  } catch {
    return undefined;
  }
  for (const name of names.filter((n) => PIN_FILES.test(n) || n.endsWith('.ipynb'))) {
    let text: string;
    try {
      text = fs.readFileSync(path.join(root, name), 'utf8');
    } catch {
      continue;
    }
    if (name.endsWith('.ipynb')) text = notebookPipLines(text);
    for (const match of text.matchAll(REQUIREMENT)) {
      const version = resolveSpecifiers(match[1]);
      if (!version) continue;
      const spec = match[1].replace(/\s+/g, '').replace(/,$/, '');
      return { version, source: spec.startsWith('==') ? `pinned in ${name}` : `trl${spec} in ${name}: the newest release it admits` };
    }
  }
  return undefined;
}

/** The `!pip install …` / `%pip install …` lines of a notebook's code cells. */
function notebookPipLines(text: string): string {
  try {
    const cells = (JSON.parse(text) as { cells?: { cell_type?: string; source?: string | string[] }[] }).cells ?? [];
    return cells
      .filter((c) => c.cell_type === 'code')
      .flatMap((c) => (Array.isArray(c.source) ? c.source.join('') : (c.source ?? '')).split('\n'))
      .filter((line) => /^\s*[!%]\s*(uv\s+)?pip\s+install\b/.test(line))
      .join('\n');
  } catch {
    return '';
  }
}
