import { isMap, isScalar, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import { RUNNER_FIELDS } from '../../shared/runConfig';
import { untranslated, type Localizer, type Range } from '../../shared/vocabulary';
import { closestName } from '../../shared/names';

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

/** Fields that older TRL versions (and many blog posts) use, with what happened to them. */
function removedField(key: string, l10n: Localizer): string | undefined {
  switch (key) {
    case 'max_prompt_length':
      return l10n.t(
        "'max_prompt_length' was removed from GRPOConfig in TRL's \"Remove deprecated parameters\" change (early 2026): the trainer no longer truncates prompts. Shorten the prompts in the dataset (or filter long ones) and delete this line.",
      );
  }
  return undefined;
}

/**
 * Checks a run config against the installed TRL's fields before anything starts: unknown keys
 * (with the closest real one), removed ones (explained), and values of the wrong basic type.
 */
export function checkRunConfig(
  text: string,
  schema: TrlSchema,
  ownFields: ReadonlySet<string> = RUNNER_FIELDS,
  l10n: Localizer = untranslated,
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
    const field = schema.fields[key];
    if (!field) {
      if (ownFields.has(key)) continue;
      const removed = removedField(key, l10n);
      const suggestion = removed ? undefined : closestName(key, Object.keys(schema.fields));
      const unknown = l10n.t(
        "'{0}' is not a field of TRL {1}'s GRPO run config (script args, GRPOConfig, ModelConfig, dataset mixture, accelerate launch options): training stops with an error before it starts.",
        key,
        schema.trl,
      );
      problems.push({
        severity: 'error',
        range,
        message: removed ?? (suggestion ? `${unknown} ${l10n.t("Did you mean '{0}'?", suggestion)}` : unknown),
        ...(suggestion ? { replacement: suggestion } : {}),
      });
      continue;
    }
    const value = isScalar(pair.value) ? pair.value.value : undefined;
    const mismatch = typeMismatch(field.type, value, l10n);
    if (mismatch)
      problems.push({
        severity: 'error',
        range: toRange(pair.value as YamlNode),
        message: l10n.t("'{0}' expects {1} ({2}); got {3}.", key, mismatch, field.type, JSON.stringify(value)),
      });
  }
  return problems;
}

/** A basic type check on scalars: what the value should be, when it is clearly not. */
function typeMismatch(type: string, value: unknown, l10n: Localizer): string | undefined {
  if (value === undefined || value === null) return undefined;
  const kinds = type.split('|').map((t) => t.trim());
  if (kinds.includes('str') || kinds.some((k) => k.startsWith('Literal') || k.includes('Any') || k.includes('list') || k.includes('dict')))
    return undefined;
  if (kinds.includes('bool') && typeof value !== 'boolean') return l10n.t('true or false');
  if (kinds.includes('int') && !kinds.includes('float') && !(typeof value === 'number' && Number.isInteger(value)))
    return l10n.t('an integer');
  if (kinds.includes('float') && typeof value !== 'number') return l10n.t('a number');
  return undefined;
}
