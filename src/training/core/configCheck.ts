import { isMap, isScalar, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import { RUNNER_FIELDS } from '../../shared/runConfig';
import { untranslated, type Localizer, type Range } from '../../shared/vocabulary';
import { closestName } from '../../shared/names';
import { grpoConfigField } from '../../shared/trlReleases';

/** python/grpo_studio_schema.py's output: the fields of TRL's four run-config dataclasses. */
export interface TrlSchema {
  trl: string;
  fields: Record<string, { group: string; type: string; default: unknown; help: string }>;
}

export interface ConfigProblem {
  severity: 'error' | 'warning';
  message: string;
  range: Range;
  /** The field an unknown key most likely meant: the quick fix writes it instead. */
  replacement?: string;
}

/** What to do instead of a field TRL removed, where it is not obvious. */
function removedFieldAdvice(key: string, l10n: Localizer): string | undefined {
  switch (key) {
    case 'max_prompt_length':
      return l10n.t(
        'The trainer no longer truncates prompts: shorten the prompts in the dataset (or filter long ones) and delete this line.',
      );
  }
  return undefined;
}

/** The TRL release a config is checked for, and where that came from ("pinned in requirements.txt"). */
export interface ConfigRelease {
  version: string;
  source: string;
}

/**
 * Checks a run config before anything starts: unknown keys (with the closest real one), values of
 * the wrong basic type, and GRPOConfig fields that the release in use does not have yet or no longer
 * has (from every release's own GRPOConfig). The other fields (TrainingArguments, ModelConfig, the
 * script's and `accelerate launch`'s) come from the schema of the TRL the extension was built with.
 */
export function checkRunConfig(
  text: string,
  schema: TrlSchema,
  ownFields: ReadonlySet<string> = RUNNER_FIELDS,
  l10n: Localizer = untranslated,
  release: ConfigRelease = { version: schema.trl, source: l10n.t('the TRL GRPO Studio was built with') },
): ConfigProblem[] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  const toRange = (node: YamlNode | null | undefined): Range => {
    const [start, end] = node?.range ?? [0, 0];
    const s = lineCounter.linePos(start);
    const e = lineCounter.linePos(end);
    return { start: { line: s.line - 1, character: s.col - 1 }, end: { line: e.line - 1, character: e.col - 1 } };
  };
  const problems: ConfigProblem[] = doc.errors.map((error) => ({
    severity: 'error' as const,
    message: `YAML: ${error.message.split('\n')[0]}`,
    range: toRange({ range: [error.pos[0], error.pos[1], error.pos[1]] } as YamlNode),
  }));
  if (!isMap(doc.contents)) return problems;
  for (const pair of doc.contents.items) {
    if (!isScalar(pair.key)) continue;
    const key = String(pair.key.value);
    const range = toRange(pair.key);
    const inRelease = grpoConfigField(key, release.version);
    const note = l10n.t('[TRL {0}: {1}]', release.version, release.source);
    if (inRelease?.state === 'later' || inRelease?.state === 'removed') {
      const message =
        inRelease.state === 'later'
          ? l10n.t(
              "'{0}' is not a GRPOConfig field in this TRL release (it was added in TRL {1}): training stops with an error before it starts. Delete this line, or use TRL {1} or later.",
              key,
              inRelease.since,
            )
          : [
              l10n.t(
                "'{0}' was removed from GRPOConfig in TRL {1} (TRL {2} was the last release with it): training stops with an error before it starts.",
                key,
                inRelease.removedIn,
                inRelease.lastIn,
              ),
              removedFieldAdvice(key, l10n),
            ]
              .filter(Boolean)
              .join(' ');
      problems.push({ severity: 'error', range, message: `${message} ${note}` });
      continue;
    }
    const field = schema.fields[key];
    if (!field && !inRelease) {
      if (ownFields.has(key)) continue;
      const suggestion = closestName(key, Object.keys(schema.fields));
      const unknown = l10n.t(
        "'{0}' is not a field of TRL {1}'s GRPO run config (script args, GRPOConfig, ModelConfig, dataset mixture, accelerate launch options): training stops with an error before it starts.",
        key,
        schema.trl,
      );
      problems.push({
        severity: 'error',
        range,
        message: suggestion ? `${unknown} ${l10n.t("Did you mean '{0}'?", suggestion)}` : unknown,
        ...(suggestion ? { replacement: suggestion } : {}),
      });
      continue;
    }
    const value = isScalar(pair.value) ? pair.value.value : undefined;
    const type = inRelease?.type ?? field.type;
    const mismatch = typeMismatch(type, value, l10n);
    if (mismatch)
      problems.push({
        severity: 'error',
        range: toRange(pair.value as YamlNode),
        message: l10n.t("'{0}' expects {1} ({2}); got {3}.", key, mismatch, type, JSON.stringify(value)),
      });
  }
  return problems;
}

/** A basic type check on scalars: what the value should be, when it is clearly not. */
function typeMismatch(type: string, value: unknown, l10n: Localizer): string | undefined {
  if (value === undefined || value === null) return undefined;
  const kinds = type
    .replace(/^Optional\[(.*)\]$/, '$1 | None')
    .split('|')
    .map((t) => t.trim());
  if (kinds.includes('str') || kinds.some((k) => k.startsWith('Literal') || k.includes('Any') || k.includes('list') || k.includes('dict')))
    return undefined;
  if (kinds.includes('bool') && typeof value !== 'boolean') return l10n.t('true or false');
  if (kinds.includes('int') && !kinds.includes('float') && !(typeof value === 'number' && Number.isInteger(value)))
    return l10n.t('an integer');
  if (kinds.includes('float') && typeof value !== 'number') return l10n.t('a number');
  return undefined;
}
