/**
 * Loops for arrays of any length: spreading a long array into a call (`Math.max(...values)`,
 * `list.push(...items)`) passes every element as an argument and overflows the stack past ~100,000.
 */

/** The smallest and largest value; NaN for both when there is none. */
export function extent(values: Iterable<number>): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (const value of values) {
    if (value < min) min = value;
    if (value > max) max = value;
  }
  return min > max ? { min: NaN, max: NaN } : { min, max };
}

/** Appends `items` to `target` in place. */
export function append<T>(target: T[], items: Iterable<T>): T[] {
  for (const item of items) target.push(item);
  return target;
}

/** `42s`, `3m 20s`, `2h 5m`: a time span as the Runs view and the dashboard show it. */
export function shortDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}
