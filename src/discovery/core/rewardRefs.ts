import type { RewardRef } from '../../shared/vocabulary';
import type { RewardFunction } from './types';

/**
 * The rewards that a config (or a trainer's file) wires, in the order it names them: as refs the
 * reward worker can load where discovery resolved them to a workspace function, by name where it
 * could not (TRL built-ins, reward models, installed packages).
 */
export function rewardRefsOf(rewards: readonly RewardFunction[], wiringFile: string): { refs: RewardRef[]; skipped: string[] } {
  const wired = rewards
    .flatMap((reward) => reward.references.filter((ref) => ref.file === wiringFile).map((ref) => ({ reward, at: ref.range.start })))
    .sort((a, b) => a.at.line - b.at.line || a.at.character - b.at.character);
  const refs: RewardRef[] = [];
  const skipped: string[] = [];
  for (const { reward } of wired) {
    if (reward.handle)
      refs.push({
        name: reward.name,
        file: reward.handle.file,
        attr: reward.handle.attr,
        ...(reward.handle.instantiate ? { instantiate: true } : {}),
      });
    else skipped.push(reward.name);
  }
  return { refs, skipped };
}
