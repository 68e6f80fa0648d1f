/**
 * A Jupyter notebook read as the module its code cells make when run top to bottom: code cells in
 * order, one after the other; IPython magics (`%pip`, a `%%capture` cell) and shell lines (`!pip
 * install`) become empty lines, so every line keeps its number. Markdown and raw cells are left out
 * but keep their index: positions map back to "cell N (0-based among all cells), line L".
 */

export interface CellSpan {
  /** 0-based index among all the notebook's cells. */
  cell: number;
  /** First line of the cell in the module text (0-based), and how many lines it has. */
  start: number;
  lines: number;
}

export interface NotebookModule {
  source: string;
  cells: CellSpan[];
}

interface RawCell {
  cell_type?: unknown;
  source?: unknown;
}

/** The module text of a notebook, or a reason it cannot be read as one. */
export function notebookModule(text: string): NotebookModule | { error: string } {
  let cells: RawCell[];
  try {
    const json = JSON.parse(text) as { cells?: unknown };
    if (!Array.isArray(json?.cells)) return { error: 'not a Jupyter notebook (no "cells" list)' };
    cells = json.cells as RawCell[];
  } catch (error) {
    return { error: `not valid notebook JSON (${(error as Error).message})` };
  }
  const lines: string[] = [];
  const spans: CellSpan[] = [];
  cells.forEach((cell, index) => {
    if (cell.cell_type !== 'code') return;
    const source = Array.isArray(cell.source) ? cell.source.join('') : typeof cell.source === 'string' ? cell.source : '';
    const cellLines = source.split(/\r?\n/);
    const cellMagic = /^\s*%%/.test(cellLines[0] ?? '');
    spans.push({ cell: index, start: lines.length, lines: cellLines.length });
    for (const line of cellLines) lines.push(cellMagic || /^\s*[%!]/.test(line) ? '' : line);
  });
  return { source: lines.join('\n'), cells: spans };
}

/** Where a 0-based line of the module text is in the notebook. */
export function cellPosition(cells: CellSpan[], line: number): { cell: number; line: number } | undefined {
  const span = cells.find((c) => line >= c.start && line < c.start + c.lines);
  return span && { cell: span.cell, line: line - span.start };
}
