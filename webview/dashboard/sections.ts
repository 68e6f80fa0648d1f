import { l10n } from '../shared/l10n';

/** A group of charts: metrics that share a prefix (`rewards/…`), or a few well-known top-level ones. */
export interface Section {
  id: string;
  title: string;
}

interface KnownSection {
  id: string;
  title(): string;
  /** Top-level keys (no `/`) that belong here, and the order of known keys. */
  keys: string[];
}

// GRPOTrainer's metrics (TRL 1.x), in the order a reader looks for them; evaluation metrics are
// the same names prefixed with `eval_`. Whatever else arrives gets a chart too: under its prefix
// (`foo/bar` → section `foo`), or under "Other metrics".
const KNOWN: KnownSection[] = [
  { id: 'rewards', title: () => l10n.t('Rewards'), keys: ['reward', 'reward_std', 'frac_reward_zero_std'] },
  {
    id: 'training',
    title: () => l10n.t('Training'),
    keys: ['loss', 'kl', 'entropy', 'grad_norm', 'learning_rate', 'step_time', 'num_tokens', 'epoch'],
  },
  {
    id: 'completions',
    title: () => l10n.t('Completion lengths'),
    keys: [
      'mean_length',
      'min_length',
      'max_length',
      'mean_terminated_length',
      'min_terminated_length',
      'max_terminated_length',
      'clipped_ratio',
    ].map((name) => `completions/${name}`),
  },
  {
    id: 'clip_ratio',
    title: () => l10n.t('Clip ratios'),
    keys: ['region_mean', 'low_mean', 'low_min', 'high_mean', 'high_max'].map((name) => `clip_ratio/${name}`),
  },
  { id: 'eval', title: () => l10n.t('Evaluation'), keys: ['eval_loss', 'eval_reward', 'eval_reward_std'] },
];
const OTHER = 'other';

function sectionId(key: string): string {
  if (key.startsWith('eval_')) return 'eval';
  const slash = key.indexOf('/');
  if (slash > 0) return key.slice(0, slash);
  return KNOWN.find((section) => section.keys.includes(key))?.id ?? OTHER;
}

export function sectionOf(key: string): Section {
  const id = sectionId(key);
  const known = KNOWN.find((section) => section.id === id);
  return { id, title: known ? known.title() : id === OTHER ? l10n.t('Other metrics') : id };
}

/** Sorts sections: the known ones in order, then the others by name, "Other metrics" last. */
export function compareSections(a: string, b: string): number {
  const rank = (id: string) => {
    const known = KNOWN.findIndex((section) => section.id === id);
    return known >= 0 ? known : id === OTHER ? KNOWN.length + 1 : KNOWN.length;
  };
  return rank(a) - rank(b) || a.localeCompare(b);
}

/** Sorts metrics within a section: the known ones in order, then the others by name. */
export function compareMetrics(a: string, b: string): number {
  const rank = (key: string) => {
    const known = KNOWN.find((section) => section.keys.includes(key));
    return known ? known.keys.indexOf(key) : Number.MAX_SAFE_INTEGER;
  };
  return rank(a) - rank(b) || a.localeCompare(b);
}
