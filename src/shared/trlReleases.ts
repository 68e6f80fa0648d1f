import history from '../../schemas/trl-grpo-history.json';

/**
 * The TRL releases with a GRPOTrainer and what each one's GRPOConfig holds, from
 * schemas/trl-grpo-history.json (generated from every release's own `grpo_config.py` by
 * scripts/trl_config_history.py). Each field lists the ranges of releases it exists in, and its
 * type annotation and default as [first release, value] changes.
 */
interface FieldHistory {
  /** A TrainingArguments field some releases redeclare: it exists in every release. */
  inherited?: boolean;
  in: string[][];
  type: string[][];
  default: unknown[][];
}

const FIELDS = history.fields as Record<string, FieldHistory>;

/** Oldest first. */
export const KNOWN_RELEASES: readonly string[] = history.releases;

export const NEWEST_KNOWN = KNOWN_RELEASES[KNOWN_RELEASES.length - 1];

/** Numeric comparison of dotted versions (pre-release suffixes ignored). */
export function compareVersions(a: string, b: string): number {
  const parts = (v: string) => v.split('.').map((p) => parseInt(p, 10) || 0);
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  }
  return 0;
}

export type GrpoConfigField =
  | { state: 'present'; type: string; default: unknown }
  /** Not yet in that release: added in `since`. */
  | { state: 'later'; since: string }
  /** No longer in that release: `lastIn` was the last release with it, `removedIn` the first without. */
  | { state: 'removed'; lastIn: string; removedIn: string };

/**
 * What GRPOConfig of TRL `version` has for `name`; undefined when no release's GRPOConfig declares
 * it (a field of TrainingArguments, ModelConfig or the script arguments, or no field at all), and
 * for a TrainingArguments field in a release that does not redeclare it. A release newer than the
 * newest known has what the newest has.
 */
export function grpoConfigField(name: string, version: string): GrpoConfigField | undefined {
  const field = FIELDS[name];
  if (!field) return undefined;
  const releaseIndex = (release: string) => KNOWN_RELEASES.indexOf(release);
  const atOrAfter = (release: string) => compareVersions(version, release) >= 0;
  const inRange = field.in.find(([first, last]) => atOrAfter(first) && (last === NEWEST_KNOWN || !atOrAfter(nextRelease(last))));
  if (inRange) {
    const valueAt = (changes: unknown[][]) => changes.filter(([from]) => atOrAfter(from as string)).pop()?.[1];
    return { state: 'present', type: valueAt(field.type) as string, default: valueAt(field.default) };
  }
  if (field.inherited) return undefined;
  const next = field.in.find(([first]) => !atOrAfter(first));
  if (next) return { state: 'later', since: next[0] };
  const last = field.in[field.in.length - 1][1];
  return { state: 'removed', lastIn: last, removedIn: KNOWN_RELEASES[releaseIndex(last) + 1] };
}

function nextRelease(release: string): string {
  return KNOWN_RELEASES[KNOWN_RELEASES.indexOf(release) + 1];
}
