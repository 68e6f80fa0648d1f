/** The largest delay Node's timers take (2^31 - 1 ms, about 24.8 days), in seconds. */
export const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/**
 * A numeric option's value, or undefined when the text is not one (the caller answers with a usage
 * error, exit 2): a finite number, an integer when asked, within [min, max], above `above`.
 */
export function numberOption(text: string, rule: { integer?: boolean; min?: number; above?: number; max?: number }): number | undefined {
  if (!/^\s*[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?\s*$/i.test(text)) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || (rule.integer && !Number.isInteger(value))) return undefined;
  if ((rule.min !== undefined && value < rule.min) || (rule.above !== undefined && value <= rule.above)) return undefined;
  if (rule.max !== undefined && value > rule.max) return undefined;
  return value;
}
