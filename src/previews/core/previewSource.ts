import { isMap, isNode, isScalar, parse, parseDocument } from 'yaml';
import type { RewardFunction } from '../../discovery/core/types';
import type { Aggregation, ScaleRewards } from '../../scoring/advantages';
import { AGGREGATIONS, SCALE_REWARDS } from './rewardPreviewProtocol';

/**
 * Whose rewards the Reward Preview totals: a run config's `reward_funcs`, the trainer calls of one
 * Python file or notebook, or every reward the workspace wires. A config also gives the weights,
 * `scale_rewards` and `multi_objective_aggregation` TRL will use.
 */
export type PreviewSource = { kind: 'config' | 'trainer'; file: string } | { kind: 'workspace' };

export interface SourceSettings {
  weights?: number[];
  scaleRewards?: ScaleRewards;
  aggregation?: Aggregation;
}

const isConfig = (file: string) => /\.ya?ml$/i.test(file);

/** The configs and trainer files that wire rewards, configs first, then "the whole workspace". */
export function previewSources(rewards: readonly RewardFunction[]): PreviewSource[] {
  const files = new Set(rewards.filter((r) => r.origin !== 'shape').flatMap((r) => r.references.map((ref) => ref.file)));
  const sorted = [...files].sort((a, b) => Number(isConfig(b)) - Number(isConfig(a)) || a.localeCompare(b));
  return [...sorted.map((file): PreviewSource => ({ kind: isConfig(file) ? 'config' : 'trainer', file })), { kind: 'workspace' }];
}

export function sameSource(a: PreviewSource | undefined, b: PreviewSource | undefined): boolean {
  return a?.kind === b?.kind && (a?.kind === 'workspace' || (a as { file?: string })?.file === (b as { file?: string })?.file);
}

/**
 * The indices of `rewards` the source totals, in its order: as its `reward_funcs` lists them (their
 * references in the file, top to bottom); for the workspace, every wired reward (all of them when
 * nothing is wired).
 */
export function sourceOrder(rewards: readonly RewardFunction[], source: PreviewSource): number[] {
  if (source.kind === 'workspace') {
    const wired = rewards.flatMap((r, k) => (r.origin === 'shape' ? [] : [k]));
    return wired.length > 0 ? wired : rewards.map((_, k) => k);
  }
  const at = (r: RewardFunction) => {
    const positions = r.references.filter((ref) => ref.file === source.file).map((ref) => ref.range.start);
    return positions.sort((a, b) => a.line - b.line || a.character - b.character)[0];
  };
  return rewards
    .map((r, k) => ({ k, position: at(r) }))
    .filter((entry) => entry.position !== undefined)
    .sort((a, b) => a.position!.line - b.position!.line || a.position!.character - b.position!.character)
    .map((entry) => entry.k);
}

/** What a run config says about scoring: `reward_weights` (one per reward), `scale_rewards`, `multi_objective_aggregation`. */
export function configSettings(text: string, rewardCount: number): SourceSettings {
  let values: unknown;
  try {
    values = parse(text);
  } catch {
    return {};
  }
  if (!values || typeof values !== 'object' || Array.isArray(values)) return {};
  const { reward_weights: weights, scale_rewards: scale, multi_objective_aggregation: aggregation } = values as Record<string, unknown>;
  const settings: SourceSettings = {};
  if (Array.isArray(weights) && weights.length === rewardCount && weights.every((w) => typeof w === 'number' && Number.isFinite(w)))
    settings.weights = weights as number[];
  // Before TRL 0.22 scale_rewards was a bool: true scaled per group, false not at all.
  const scaleRewards = scale === true ? 'group' : scale === false ? 'none' : scale;
  if (SCALE_REWARDS.includes(scaleRewards as ScaleRewards)) settings.scaleRewards = scaleRewards as ScaleRewards;
  if (AGGREGATIONS.includes(aggregation as Aggregation)) settings.aggregation = aggregation as Aggregation;
  return settings;
}

/** The config text with `reward_weights` set to `weights` (a flow list), every other character kept. */
export function withRewardWeights(text: string, weights: readonly number[]): string {
  const list = `[${weights.join(', ')}]`;
  const doc = parseDocument(text);
  const pair = isMap(doc.contents)
    ? doc.contents.items.find((item) => isScalar(item.key) && item.key.value === 'reward_weights')
    : undefined;
  const range = pair && isNode(pair.value) ? pair.value.range : undefined;
  if (range) {
    // A block list's range takes in the line break after it; that stays.
    let end = range[1];
    while (end > range[0] && /\s/.test(text[end - 1])) end--;
    return text.slice(0, range[0]) + list + text.slice(end);
  }
  return `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}reward_weights: ${list}\n`;
}
