import * as vscode from 'vscode';
import type { Range } from '../../shared/vocabulary';

/**
 * Discovery reads a notebook as one module (its code cells in order, notebook.ts); the editor
 * shows it as cells, each a document of its own. This maps positions between the two, and turns
 * an open notebook's unsaved cells back into the .ipynb text the index reads.
 */

/** Finds the cell of a module line: `cellOf` is the index's (0-based lines, cells indexed among all cells). */
export type CellLookup = (file: string, line: number) => { cell: number; line: number } | undefined;

export function isNotebookFile(file: string): boolean {
  return file.toLowerCase().endsWith('.ipynb');
}

export function openNotebook(file: string): vscode.NotebookDocument | undefined {
  return vscode.workspace.notebookDocuments.find((n) => n.uri.scheme === 'file' && n.uri.fsPath === file);
}

/** Where a range of `file` (module lines for a notebook) shows in the editor; undefined for a notebook that is not open. */
export function editorLocation(file: string, range: Range, cellOf: CellLookup): { uri: vscode.Uri; range: vscode.Range } | undefined {
  if (!isNotebookFile(file)) {
    return {
      uri: vscode.Uri.file(file),
      range: new vscode.Range(range.start.line, range.start.character, range.end.line, range.end.character),
    };
  }
  const notebook = openNotebook(file);
  const start = cellOf(file, range.start.line);
  if (!notebook || !start || start.cell >= notebook.cellCount) return undefined;
  const end = cellOf(file, range.end.line);
  const sameCell = end?.cell === start.cell;
  return {
    uri: notebook.cellAt(start.cell).document.uri,
    range: new vscode.Range(start.line, range.start.character, sameCell ? end.line : start.line, sameCell ? range.end.character : 10_000),
  };
}

/** The notebook file and cell a cell document belongs to. */
export function cellOfDocument(document: vscode.TextDocument): { file: string; cell: number } | undefined {
  if (document.uri.scheme !== 'vscode-notebook-cell') return undefined;
  for (const notebook of vscode.workspace.notebookDocuments) {
    const cell = notebook.getCells().find((c) => c.document === document);
    if (cell) return { file: notebook.uri.fsPath, cell: cell.index };
  }
  return undefined;
}

/** An open notebook's cells (unsaved edits included) as the .ipynb JSON the index reads. */
export function notebookText(notebook: vscode.NotebookDocument): string {
  const cells = notebook.getCells().map((cell) => ({
    cell_type: cell.kind === vscode.NotebookCellKind.Code ? 'code' : 'markdown',
    source: cell.document.getText(),
  }));
  return JSON.stringify({ cells });
}
