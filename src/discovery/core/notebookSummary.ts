import type { Parser } from 'web-tree-sitter';
import type { CellSpan } from './notebook';
import { parsePython } from './parser';
import { summarizeModule, type ModuleSummary } from './pythonModule';
import { mergedSummary, PartCache } from './summaryParts';

/**
 * A notebook's module summary, made cell by cell: a statement never spans cells, so each code cell
 * parses alone (after as many empty lines as precede it in the module text, so positions are module
 * positions) and the cells' summaries are merged in order. An edit re-parses only the cells whose
 * text changed; a cell that only moved (lines added above it) has its line numbers shifted.
 */
export class NotebookSummaries {
  private readonly byFile = new Map<string, PartCache<ModuleSummary>>();

  constructor(private readonly parser: Parser) {}

  summarize(file: string, source: string, cells: readonly CellSpan[]): ModuleSummary {
    let cache = this.byFile.get(file);
    if (!cache) this.byFile.set(file, (cache = new PartCache()));
    const lines = source.split('\n');
    const parts = cells.map((span) => {
      const text = lines.slice(span.start, span.start + span.lines).join('\n');
      return cache.get(text, span.start, () => this.parseCell(text, span.start));
    });
    cache.finish();
    return mergedSummary(parts);
  }

  forget(file: string): void {
    this.byFile.delete(file);
  }

  private parseCell(text: string, start: number): ModuleSummary {
    const tree = parsePython(this.parser, '\n'.repeat(start) + text);
    try {
      return summarizeModule(tree);
    } finally {
      tree.delete();
    }
  }
}
