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
