import type { Parser } from 'web-tree-sitter';
import type { CellSpan } from './notebook';
import { parsePython } from './parser';
import { emptySummary, summarizeModule, type ModuleSummary } from './pythonModule';

/** One code cell's summary, in module lines from `start`, with every line number in it. */
interface CellSummary {
  start: number;
  summary: ModuleSummary;
  /** The objects whose `line` is a module line: positions, assignments. */
  lined: { line: number }[];
}

/**
 * A notebook's module summary, made cell by cell: a statement never spans cells, so each code cell
 * parses alone (after as many empty lines as precede it in the module text, so positions are module
 * positions) and the cells' summaries are merged in order. An edit re-parses only the cells whose
 * text changed; a cell that only moved (lines added above it) has its line numbers shifted.
 */
export class NotebookSummaries {
  private readonly byFile = new Map<string, Map<string, CellSummary>>();

  constructor(private readonly parser: Parser) {}

  summarize(file: string, source: string, cells: readonly CellSpan[]): ModuleSummary {
    const previous = this.byFile.get(file) ?? new Map<string, CellSummary>();
    const current = new Map<string, CellSummary>();
    const lines = source.split('\n');
    const parts: ModuleSummary[] = [];
    for (const span of cells) {
      const text = lines.slice(span.start, span.start + span.lines).join('\n');
      // Identical cells each need their own summary: a cached one serves one cell only.
      const key = current.has(text) ? `${span.start}\n${text}` : text;
      let cell = previous.get(key);
      previous.delete(key);
      if (cell) shift(cell, span.start);
      else cell = this.parseCell(text, span.start);
      current.set(key, cell);
      parts.push(cell.summary);
    }
    this.byFile.set(file, current);
    return merge(parts);
  }

  forget(file: string): void {
    this.byFile.delete(file);
  }

  private parseCell(text: string, start: number): CellSummary {
    const tree = parsePython(this.parser, '\n'.repeat(start) + text);
    try {
      const summary = summarizeModule(tree);
      return { start, summary, lined: linedObjects(summary) };
    } finally {
      tree.delete();
    }
  }
}

function shift(cell: CellSummary, start: number): void {
  const delta = start - cell.start;
  if (delta === 0) return;
  for (const object of cell.lined) object.line += delta;
  cell.start = start;
}

/** Every object in the summary with a numeric `line` (each once; the summary has cycles: parent functions). */
function linedObjects(summary: ModuleSummary): { line: number }[] {
  const seen = new Set<object>();
  const found: { line: number }[] = [];
  const stack: unknown[] = [summary];
  while (stack.length) {
    const value = stack.pop();
    if (!value || typeof value !== 'object' || seen.has(value)) continue;
    seen.add(value);
    if (value instanceof Set) continue;
    if (value instanceof Map) {
      for (const item of value.values()) stack.push(item);
      continue;
    }
    if (typeof (value as { line?: unknown }).line === 'number') found.push(value as { line: number });
    for (const item of Object.values(value)) stack.push(item);
  }
  return found;
}

/** The module summary of cells run in order: later bindings win, everything else accumulates. */
function merge(parts: ModuleSummary[]): ModuleSummary {
  const merged = emptySummary();
  for (const part of parts) {
    for (const [name, binding] of part.bindings) merged.bindings.set(name, binding);
    merged.functions.push(...part.functions);
    merged.classes.push(...part.classes);
    merged.trainerCalls.push(...part.trainerCalls);
    merged.starImports.push(...part.starImports);
    merged.columnsSeen.push(...part.columnsSeen.filter((c) => !merged.columnsSeen.includes(c)));
    merged.conversationalEvidence ??= part.conversationalEvidence;
    for (const name of part.helperCalls) merged.helperCalls.add(name);
    for (const name of part.namedByAssignment) merged.namedByAssignment.add(name);
    merged.assignments.push(...part.assignments);
  }
  return merged;
}
