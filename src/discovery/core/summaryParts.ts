import type { FunctionInfo, ModuleSummary } from './pythonModule';

/**
 * Module summaries made in parts (a notebook's cells, a module's top-level functions) so that an
 * edit re-reads only the part it touched: a part that only moved has its line numbers shifted, and
 * the parts are merged in source order into the module's summary.
 */
interface SummaryPart<T extends object> {
  /** The module line the part started on when it was summarized. */
  start: number;
  value: T;
  /** The objects in `value` whose `line` is a module line: positions, assignments. */
  lined: { line: number }[];
}

/** A top-level function or method: its summary, and what walking its body added to the module's. */
export interface FunctionPart {
  fn: FunctionInfo;
  effects: ModuleSummary;
}

/**
 * The parts of one module from its previous walk, by their text: a walk takes each part it meets
 * from here when its text is unchanged (moved to its line) and makes it otherwise.
 */
export class PartCache<T extends object> {
  private previous = new Map<string, SummaryPart<T>>();
  private current = new Map<string, SummaryPart<T>>();

  /** The part for `key` starting at module line `start`: last walk's, moved, or `make()`'s. */
  get(key: string, start: number, make: () => T): T {
    // Identical texts each need their own part: a cached one serves one place only.
    if (this.current.has(key)) key = `${start}\n${key}`;
    let part = this.previous.get(key);
    if (part) {
      this.previous.delete(key);
      moveTo(part, start);
    } else {
      const value = make();
      part = { start, value, lined: linedObjects(value) };
    }
    this.current.set(key, part);
    return part.value;
  }

  /** Ends a walk: the parts it did not meet are dropped. */
  finish(): void {
    this.previous = this.current;
    this.current = new Map();
  }
}

function moveTo(part: SummaryPart<object>, start: number): void {
  const delta = start - part.start;
  if (delta === 0) return;
  for (const object of part.lined) object.line += delta;
  part.start = start;
}

/** Every object in `value` with a numeric `line` (each once; summaries have cycles: parent functions). */
function linedObjects(value: object): { line: number }[] {
  const seen = new Set<object>();
  const found: { line: number }[] = [];
  const stack: unknown[] = [value];
  while (stack.length) {
    const item = stack.pop();
    if (!item || typeof item !== 'object' || seen.has(item)) continue;
    seen.add(item);
    if (item instanceof Set) continue;
    if (item instanceof Map) {
      for (const entry of item.values()) stack.push(entry);
      continue;
    }
    if (typeof (item as { line?: unknown }).line === 'number') found.push(item as { line: number });
    for (const entry of Object.values(item)) stack.push(entry);
  }
  return found;
}

/** Adds `part`, run after what `into` holds, to `into`: later bindings win, everything else accumulates. */
export function mergeSummary(into: ModuleSummary, part: ModuleSummary): void {
  for (const [name, binding] of part.bindings) into.bindings.set(name, binding);
  into.functions.push(...part.functions);
  into.classes.push(...part.classes);
  into.trainerCalls.push(...part.trainerCalls);
  into.starImports.push(...part.starImports);
  into.columnsSeen.push(...part.columnsSeen.filter((c) => !into.columnsSeen.includes(c)));
  into.conversationalEvidence ??= part.conversationalEvidence;
  for (const name of part.helperCalls) into.helperCalls.add(name);
  for (const name of part.namedByAssignment) into.namedByAssignment.add(name);
  into.assignments.push(...part.assignments);
}

/** The summary of parts run in order. */
export function mergedSummary(parts: ModuleSummary[]): ModuleSummary {
  const merged = emptySummary();
  for (const part of parts) mergeSummary(merged, part);
  return merged;
}

/** The summary of a module with nothing in it, for a summarizer (or a merge of several) to fill. */
export function emptySummary(): ModuleSummary {
  return {
    bindings: new Map(),
    functions: [],
    classes: [],
    trainerCalls: [],
    starImports: [],
    columnsSeen: [],
    helperCalls: new Set(),
    namedByAssignment: new Set(),
    assignments: [],
  };
}
