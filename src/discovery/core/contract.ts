import type { FunctionInfo, Param } from './pythonModule';
import type { DatasetContext } from './types';
import type { Localizer, Problem, QuickFix, Range } from '../../shared/vocabulary';
import { KEYWORDS_SINCE, NEWEST_PROFILE, type TrlProfile } from './trlProfile';
import { compareVersions } from '../../shared/trlReleases';
import { closestName } from '../../shared/names';

/**
 * GRPOTrainer's calling convention (`_calculate_rewards`): every argument by keyword: the release's
 * keywords (TRL 1.x: `prompts`, `completions`, `completion_ids`, `trainer_state`, `log_extra`,
 * `log_metric`; see trlProfile.ts) and every dataset column except `prompt`, `completion`,
 * `completion_ids`.
 */

/** Names TRL removes from the columns it forwards, so a parameter with one of them is never filled. */
const NEVER_PASSED: Record<string, string> = {
  prompt: 'prompts',
  completion: 'completions',
  completion_id: 'completion_ids',
};

/** Stable problem codes, documented in the README. */
export const Code = {
  missingKwargs: 'GRPO101',
  positionalOnly: 'GRPO102',
  neverPassed: 'GRPO103',
  missingColumn: 'GRPO104',
  argsOnly: 'GRPO105',
  notCallable: 'GRPO106',
  unresolved: 'GRPO107',
  scalarReturn: 'GRPO111',
  noReturn: 'GRPO112',
  stringListReturn: 'GRPO113',
  returnAnnotation: 'GRPO114',
  scalarReturnBranch: 'GRPO115',
  fixedLengthReturn: 'GRPO116',
  asyncNotAwaited: 'GRPO117',
  noneNotAccepted: 'GRPO118',
  namelessReward: 'GRPO119',
  generatorReturn: 'GRPO120',
  notPicklable: 'GRPO126',
  columnDependent: 'GRPO121',
  stringOpsConversational: 'GRPO122',
  messageOpsStandard: 'GRPO123',
  extraColumns: 'GRPO124',
  positionalOnlyDefault: 'GRPO125',
  notChecked: 'GRPO131',
} as const;

export interface CheckTarget {
  fn: FunctionInfo;
  file: string;
  /** Leading positional parameters already filled (bound `self`, `functools.partial` arguments). */
  boundPositional: number;
  /** Keywords already given by `functools.partial`. */
  boundKeywords: string[];
}

export interface CheckContext {
  dataset: DatasetContext;
  /** Columns seen in the workspace's dataset-building code: they make a column warning unnecessary. */
  columnsSeen: ReadonlySet<string>;
  /** The TRL release that will call the function (the newest known when not given). */
  trl?: TrlProfile;
  /**
   * Unsloth trains a vision model (FastVisionModel) with TRL ≥ 0.24: it calls the rewards with the
   * rendered prompt texts and decoded completion texts (its prompts_text/completions_text), whatever
   * the dataset's format (unsloth/models/rl_replacements.py).
   */
  unslothVisionText?: boolean;
}

/** "TRL 0.22.2 (pinned in requirements.txt)", appended to the messages whose facts depend on the release. */
export function releaseNote(trl: TrlProfile, l10n: Localizer): string {
  return trl.trainer
    ? l10n.t('[TRL {0} {1}: {2}]', trl.version, trl.trainer, trl.source)
    : l10n.t('[TRL {0}: {1}]', trl.version, trl.source);
}

const NUMBER_ELEMENT =
  /^(float|int|bool|None|Any|Number|numbers\.(Number|Real)|np\.(floating|float\d*|number)|Optional\[\s*(float|int)\s*\]|(float|int)\s*\|\s*None|None\s*\|\s*(float|int)|Union\[\s*(float|int)\s*,\s*None\s*\])$/;
const SEQUENCE = /^(list|List|Sequence|typing\.(List|Sequence)|collections\.abc\.Sequence|Iterable|Iterator|tuple|Tuple)$/;
const ARRAY = /^(np\.ndarray|numpy\.ndarray|ndarray|NDArray|npt\.NDArray|torch\.Tensor|Tensor|Any)(\[.*\])?$/;
const SCALAR = /^(float|int|bool|str|None|dict|Dict|dict\[.*\]|Dict\[.*\]|Optional\[\s*(float|int)\s*\])$/;

/** `None` means the annotation is acceptable or unknown to us (an alias, a TypeVar). */
export function returnAnnotationProblem(annotation: string): 'scalar' | 'not-numbers' | undefined {
  const text = annotation
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^["']|["']$/g, '');
  if (ARRAY.test(text)) return undefined;
  if (SCALAR.test(text)) return 'scalar';
  const generic = /^([\w.]+)\s*\[(.*)\]$/.exec(text);
  if (generic && SEQUENCE.test(generic[1])) {
    const element = generic[2].replace(/,\s*\.\.\.$/, '').trim();
    return NUMBER_ELEMENT.test(element) ? undefined : 'not-numbers';
  }
  return undefined;
}

export function checkCallable(target: CheckTarget, context: CheckContext, l10n: Localizer): Problem[] {
  const { fn, file } = target;
  const problems: Problem[] = [];
  const add = (severity: Problem['severity'], code: string, message: string, range: Range, fix?: QuickFix) =>
    problems.push({ severity, code, message, file, range, fix });
  const trl = context.trl ?? NEWEST_PROFILE;
  const trlKeywords = trl.keywords;
  const versioned = (message: string) => (trl === NEWEST_PROFILE ? message : `${message} ${releaseNote(trl, l10n)}`);

  const params = effectiveParams(target);
  const varKeyword = params.find((p) => p.kind === 'var-keyword');
  const varPositional = params.find((p) => p.kind === 'var-positional');
  const byKeyword = params.filter((p) => p.kind === 'positional-or-keyword' || p.kind === 'keyword-only');
  const accepted = new Set(byKeyword.map((p) => p.name));
  const columns = context.dataset.columns;
  const signatureRange = fn.paramsRange;
  const addKwargsFix: QuickFix = {
    title: l10n.t('Add **kwargs to accept every argument GRPOTrainer passes'),
    edits: [{ range: { start: fn.kwargsInsertAt, end: fn.kwargsInsertAt }, newText: kwargsInsertion(fn) }],
  };

  const keywordsPassed = [...trlKeywords, ...(columns ? [...columns].filter((c) => !(c in NEVER_PASSED)) : [])];

  if (byKeyword.length === 0 && !varKeyword) {
    if (varPositional) {
      add(
        'error',
        Code.argsOnly,
        l10n.t(
          'GRPOTrainer passes every argument by keyword (prompts=, completions=, …), so a signature with only *{0} raises TypeError on the first training step. Name the parameters you use and add **kwargs, e.g. (completions, **kwargs).',
          varPositional.name,
        ),
        signatureRange,
      );
    } else {
      const positionalOnly = params.filter((p) => p.kind === 'positional-only');
      if (positionalOnly.length === 0) {
        add(
          'error',
          Code.missingKwargs,
          versioned(
            l10n.t(
              'GRPOTrainer calls reward functions with keyword arguments ({0}); this function takes none, so the first training step raises TypeError. Add **kwargs.',
              keywordsPassed.join(', '),
            ),
          ),
          signatureRange,
          addKwargsFix,
        );
      }
    }
  } else if (!varKeyword) {
    const missing = keywordsPassed.filter((k) => !accepted.has(k));
    if (missing.length > 0) {
      add(
        'error',
        Code.missingKwargs,
        versioned(
          l10n.t(
            "GRPOTrainer also passes {0}; without **kwargs the first training step raises TypeError: unexpected keyword argument '{1}'. Add **kwargs.",
            missing.map((m) => `${m}=`).join(', '),
            missing[0],
          ),
        ),
        signatureRange,
        addKwargsFix,
      );
    } else if (!columns) {
      add(
        'warning',
        Code.extraColumns,
        l10n.t(
          'Without **kwargs this works only if the dataset has no column besides prompt: GRPOTrainer passes every other column as a keyword argument. Add **kwargs to be safe.',
        ),
        signatureRange,
        addKwargsFix,
      );
    }
  }

  for (const p of params) {
    if (p.kind !== 'positional-only') continue;
    if (!p.hasDefault) {
      add(
        'error',
        Code.positionalOnly,
        l10n.t(
          "Parameter '{0}' is positional-only, but GRPOTrainer passes nothing by position, so it is never filled and the call raises TypeError. Remove the / from the signature.",
          p.name,
        ),
        p.range,
      );
    } else if (trlKeywords.includes(p.name) || columns?.has(p.name)) {
      if (varKeyword) {
        add(
          'warning',
          Code.positionalOnlyDefault,
          l10n.t(
            "Parameter '{0}' is positional-only: the {0}= that GRPOTrainer passes goes into **{1} and '{0}' keeps its default. Remove the / from the signature.",
            p.name,
            varKeyword.name,
          ),
          p.range,
        );
      } else {
        add(
          'error',
          Code.positionalOnly,
          l10n.t(
            "Parameter '{0}' is positional-only, but GRPOTrainer passes {0}= by keyword, which raises TypeError. Remove the / from the signature.",
            p.name,
          ),
          p.range,
        );
      }
    }
  }

  for (const p of byKeyword) {
    if (p.hasDefault || trlKeywords.includes(p.name)) continue;
    const instead = NEVER_PASSED[p.name];
    const since = KEYWORDS_SINCE[p.name];
    if (since) {
      add(
        'error',
        Code.neverPassed,
        `${
          trl.trainer && compareVersions(trl.version, since) >= 0
            ? l10n.t(
                "{0} does not pass '{1}' (GRPOTrainer does), so the call raises TypeError: missing required argument '{1}'. Give it a default ({1}=None).",
                trl.trainer,
                p.name,
              )
            : l10n.t(
                "This TRL release does not pass '{0}' (TRL passes it from {1}), so the call raises TypeError: missing required argument '{0}'. Give it a default ({0}=None) or use TRL {1} or later.",
                p.name,
                since,
              )
        } ${releaseNote(trl, l10n)}`,
        p.range,
        defaultFix(p, fn, l10n),
      );
    } else if (instead) {
      add(
        'error',
        Code.neverPassed,
        l10n.t(
          "GRPOTrainer never passes '{0}' (it passes {1}=, a list with one entry per completion), so the call raises TypeError: missing required argument '{0}'. Rename it to '{1}'.",
          p.name,
          instead,
        ),
        p.range,
        renameFix(p, instead, l10n),
      );
    } else if (columns) {
      if (!columns.has(p.name)) {
        const known = [...new Set([...columns, 'prompt'])].join(', ');
        const similar = closestName(p.name, [...columns], 2);
        add(
          'error',
          Code.missingColumn,
          context.dataset.name
            ? l10n.t(
                "Required parameter '{0}' is not a column of {1} (columns: {2}), so GRPOTrainer never passes it and the call raises TypeError. Give it a default or add the column.",
                p.name,
                context.dataset.name,
                known,
              )
            : l10n.t(
                "Required parameter '{0}' is not a dataset column (columns: {1}), so GRPOTrainer never passes it and the call raises TypeError. Give it a default or add the column.",
                p.name,
                known,
              ),
          p.range,
          similar ? renameFix(p, similar, l10n) : defaultFix(p, fn, l10n),
        );
      }
    } else if (!context.columnsSeen.has(p.name)) {
      const fills = l10n.t(
        "GRPOTrainer fills '{0}' only if the dataset has a column named '{0}'; otherwise the call raises TypeError. Make sure the column exists, or give the parameter a default.",
        p.name,
      );
      const unknown = context.dataset.unresolved
        ? l10n.t(
            'The training dataset could not be read ({0}): tell the checker its columns with --columns or the grpoStudio.dataset.columns setting.',
            context.dataset.unresolved,
          )
        : undefined;
      add('warning', Code.columnDependent, unknown ? `${fills} ${unknown}` : fills, p.range, defaultFix(p, fn, l10n));
    }
  }

  if (varPositional && varKeyword && fn.varPositionalUse && byKeyword.length === 0) {
    add(
      'error',
      Code.argsOnly,
      l10n.t(
        '*{0} is always empty: GRPOTrainer passes every argument by keyword. Read prompts/completions as named parameters instead.',
        varPositional.name,
      ),
      fn.varPositionalUse,
    );
  }

  if (fn.isAsync && !trl.awaitsAsync) {
    add(
      'error',
      Code.asyncNotAwaited,
      `${l10n.t(
        'This TRL release does not await async reward functions: it takes the coroutine itself as the result and raises TypeError. Make it a plain def, or use TRL 0.27.0 or later.',
      )} ${releaseNote(trl, l10n)}`,
      fn.nameRange,
    );
  }

  if (trl.needsPicklable && (fn.isLambda || fn.parent)) {
    add(
      'error',
      Code.notPicklable,
      `${l10n.t(
        'This trainer scores rewards in a spawned process, so each reward must pickle; a lambda or a function defined inside another function does not, and the trainer fails at startup. Define it at module level (functools.partial binds its arguments).',
      )} ${releaseNote(trl, l10n)}`,
      fn.nameRange,
    );
  }

  if (fn.noneReward && !trl.acceptsNone) {
    add(
      'warning',
      Code.noneNotAccepted,
      `${l10n.t(
        'This TRL release turns the rewards into a float32 tensor as they are, so whenever a None is among them the step raises TypeError (None for "does not apply" is accepted from TRL 0.16.0). Return 0.0 instead, or use TRL 0.16.0 or later.',
      )} ${releaseNote(trl, l10n)}`,
      fn.noneReward,
    );
  }

  problems.push(...checkReturns(target, trl, l10n));
  problems.push(...checkCompletionFormat(target, context, l10n));
  return problems;
}

function checkReturns(target: CheckTarget, trl: TrlProfile, l10n: Localizer): Problem[] {
  const { fn, file } = target;
  const problems: Problem[] = [];
  // Before 1.10.0 TRL assigns the result into a column of the rewards tensor: one value fills it all.
  const broadcastWarning = (range: Range): Problem => ({
    severity: 'warning',
    code: Code.fixedLengthReturn,
    file,
    range,
    message: `${l10n.t(
      'This returns one reward whatever the number of completions; this TRL release gives it to every completion of the batch, so the group has no spread and no advantage to learn from (TRL 1.10.0 and later raise an error). Return e.g. [score(c) for c in completions].',
    )} ${releaseNote(trl, l10n)}`,
  });
  const scalarKinds = new Set(['number', 'none', 'str', 'dict']);
  if (fn.hasYield && !trl.acceptsNone) {
    problems.push({
      severity: 'error',
      code: Code.generatorReturn,
      file,
      range: fn.nameRange,
      message: `${l10n.t(
        'This is a generator; this TRL release gives the result to torch.tensor as it is, which raises TypeError (TRL 0.16.0 and later read it item by item). Return a list: [score(c) for c in completions].',
      )} ${releaseNote(trl, l10n)}`,
    });
    return problems;
  }
  if (fn.hasYield) return problems;
  if (fn.returns.length === 0) {
    problems.push({
      severity: 'error',
      code: Code.noReturn,
      file,
      range: fn.nameRange,
      message: l10n.t(
        'This function returns nothing (None); GRPOTrainer iterates over the result and raises TypeError. Return a list with one float (or None) per completion.',
      ),
    });
  } else if (fn.returns.every((r) => scalarKinds.has(r.kind))) {
    for (const r of fn.returns) {
      if (r.kind === 'number' && !trl.acceptsNone) {
        problems.push(broadcastWarning(r.range));
        continue;
      }
      problems.push({
        severity: 'error',
        code: Code.scalarReturn,
        file,
        range: r.range,
        message: l10n.t(
          'GRPOTrainer expects a list with one reward per completion, but this returns a single {0}; the first training step fails. Return e.g. [score(c) for c in completions].',
          describeKind(r.kind, l10n),
        ),
      });
    }
  } else {
    const allFixed = fn.returns.every((r) => r.literalLength !== undefined);
    for (const r of fn.returns) {
      if (r.literalLength === 1 && !trl.checksLength) {
        problems.push(broadcastWarning(r.range));
        continue;
      }
      if (r.literalLength !== undefined && (allFixed || r.literalLength > 0)) {
        const always = allFixed && r.literalLength < 2;
        problems.push({
          severity: always ? 'error' : 'warning',
          code: Code.fixedLengthReturn,
          file,
          range: r.range,
          message: l10n.t(
            'This returns {0} reward(s) whatever the number of completions; GRPOTrainer needs exactly one per completion (num_generations × prompts, at least 2) and raises ValueError otherwise. Return e.g. [score(c) for c in completions].',
            r.literalLength,
          ),
        });
        continue;
      }
      if (r.kind === 'list-of-str') {
        problems.push({
          severity: 'error',
          code: Code.stringListReturn,
          file,
          range: r.range,
          message: l10n.t(
            'This returns a list of strings; GRPOTrainer converts rewards with torch.tensor(…, dtype=float32), which raises ValueError. Return numbers.',
          ),
        });
      } else if (scalarKinds.has(r.kind) && r.kind !== 'none') {
        problems.push({
          severity: 'warning',
          code: Code.scalarReturnBranch,
          file,
          range: r.range,
          message: l10n.t(
            'This branch returns a single {0} instead of a list with one reward per completion; GRPOTrainer fails whenever it is taken.',
            describeKind(r.kind, l10n),
          ),
        });
      }
    }
  }
  if (fn.returnAnnotation) {
    const verdict = returnAnnotationProblem(fn.returnAnnotation.text);
    if (verdict) {
      problems.push({
        severity: 'warning',
        code: Code.returnAnnotation,
        file,
        range: fn.returnAnnotation.range,
        message:
          verdict === 'scalar'
            ? l10n.t(
                "The return annotation '{0}' says a single value, but GRPOTrainer expects a list with one reward per completion: list[float] (list[float | None] where a reward may not apply).",
                fn.returnAnnotation.text,
              )
            : l10n.t(
                "The return annotation '{0}' is not a list of numbers; GRPOTrainer needs floats (or None) it can turn into a float32 tensor: list[float].",
                fn.returnAnnotation.text,
              ),
      });
    }
  }
  return problems;
}

function checkCompletionFormat(target: CheckTarget, context: CheckContext, l10n: Localizer): Problem[] {
  const { fn, file } = target;
  const { format, formatDeclared, name } = context.dataset;
  if (context.unslothVisionText) {
    if (!fn.completionMessageOps.length) return [];
    return [
      {
        severity: 'error',
        code: Code.messageOpsStandard,
        file,
        range: fn.completionMessageOps[0],
        message: l10n.t(
          'Unsloth trains this vision model with TRL {0}: it passes each completion as its decoded text and each prompt as its rendered chat text, whatever the dataset\'s format, so indexing a completion as messages (completion[0]["content"]) raises TypeError. Use the completion string directly.',
          context.trl?.version ?? '',
        ),
      },
    ];
  }
  const named = (message: string) => (name ? `${message} ${l10n.t('[dataset: {0}]', name)}` : message);
  if (format === 'conversational' && fn.completionStringOps.length > 0 && fn.completionMessageOps.length === 0) {
    // With the format declared, an operation that a list does not support is a certain TypeError.
    const raising = formatDeclared ? fn.completionStringOps.find((op) => op.raisesOnList) : undefined;
    const op = raising ?? fn.completionStringOps[0];
    return [
      {
        severity: raising ? 'error' : 'warning',
        code: Code.stringOpsConversational,
        file,
        range: op.range,
        message: named(
          raising
            ? l10n.t(
                'The dataset is conversational, so each completion is a list of messages like [{"role": "assistant", "content": "…"}], not a string: this string operation raises TypeError or AttributeError on it. Use completion[0]["content"].',
              )
            : l10n.t(
                'The dataset is conversational, so each completion is a list of messages like [{"role": "assistant", "content": "…"}], not a string: this string operation measures or searches the list. Use completion[0]["content"].',
              ),
        ),
      },
    ];
  }
  if (format === 'standard' && formatDeclared && fn.completionMessageOps.length > 0) {
    return [
      {
        severity: 'error',
        code: Code.messageOpsStandard,
        file,
        range: fn.completionMessageOps[0],
        message: named(
          l10n.t(
            'The dataset is in standard format, so each completion is a string; indexing it as messages (completion[0]["content"]) raises TypeError. Use the completion string directly.',
          ),
        ),
      },
    ];
  }
  return [];
}

function describeKind(kind: string, l10n: Localizer): string {
  switch (kind) {
    case 'number':
      return l10n.t('number');
    case 'none':
      return 'None';
    case 'str':
      return l10n.t('string');
    case 'dict':
      return l10n.t('dict');
    default:
      return kind;
  }
}

/** The parameters left for GRPOTrainer to fill after binding. */
function effectiveParams(target: CheckTarget): Param[] {
  let skip = target.boundPositional;
  const result: Param[] = [];
  for (const p of target.fn.params) {
    if (skip > 0 && (p.kind === 'positional-only' || p.kind === 'positional-or-keyword')) {
      skip--;
      continue;
    }
    result.push(target.boundKeywords.includes(p.name) ? { ...p, hasDefault: true } : p);
  }
  return result;
}

/** Renames a parameter in the signature and everywhere the body uses it. */
function renameFix(param: Param, to: string, l10n: Localizer): QuickFix {
  return {
    title: l10n.t("Rename '{0}' to '{1}'", param.name, to),
    edits: [param.nameRange, ...param.uses].map((range) => ({ range, newText: to })),
  };
}

/** `answer` → `answer=None` (`answer: str` → `answer: str = None`), where no parameter without a default follows it. */
function defaultFix(param: Param, fn: FunctionInfo, l10n: Localizer): QuickFix | undefined {
  const index = fn.params.indexOf(param);
  if (index < 0) return undefined;
  const later = fn.params.slice(index + 1);
  if (param.kind === 'positional-or-keyword' && later.some((p) => p.kind === 'positional-or-keyword' && !p.hasDefault)) return undefined;
  const typed = param.range.end.line !== param.nameRange.end.line || param.range.end.character !== param.nameRange.end.character;
  return {
    title: l10n.t("Give '{0}' the default None", param.name),
    edits: [{ range: { start: param.range.end, end: param.range.end }, newText: typed ? ' = None' : '=None' }],
  };
}

function kwargsInsertion(fn: FunctionInfo): string {
  if (fn.params.length === 0) return fn.isLambda ? ' **kwargs' : '**kwargs';
  return ', **kwargs';
}
