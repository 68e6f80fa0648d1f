import { isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Range } from '../../shared/vocabulary';

/** Reward names that `trl grpo` resolves from its own registry (trl/scripts/grpo.py). */
export const TRL_BUILTIN_REWARDS = new Set([
  'accuracy_reward',
  'reasoning_accuracy_reward',
  'think_format_reward',
  'get_soft_overlong_punishment',
]);

export interface ConfigRewardEntry {
  /** As written: a dotted import path, `path/to/file.py::name`, or a TRL built-in name. */
  text: string;
  range: Range;
}

/** The `reward_funcs:` entries of a TRL YAML config, or undefined when the file has none. */
export function readConfigRewardEntries(text: string): ConfigRewardEntry[] | undefined {
  if (!text.includes('reward_funcs')) return undefined;
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (!isMap(doc.contents)) return undefined;
  const node = doc.contents.get('reward_funcs', true);
  if (node === undefined) return undefined;
  const toRange = (offsets: [number, number, number] | undefined | null): Range => {
    const [start, end] = offsets ?? [0, 0, 0];
    const s = lineCounter.linePos(start);
    const e = lineCounter.linePos(end);
    return { start: { line: s.line - 1, character: s.col - 1 }, end: { line: e.line - 1, character: e.col - 1 } };
  };
  const items = isSeq(node) ? node.items : [node];
  const entries: ConfigRewardEntry[] = [];
  for (const item of items) {
    if (isScalar(item) && typeof item.value === 'string') entries.push({ text: item.value.trim(), range: toRange(item.range) });
  }
  return entries;
}
