import * as path from 'node:path';
import picomatch from 'picomatch';
import * as vscode from 'vscode';
import type { Ctx } from '../../ctx';
import { loadPythonParser } from '../core/parser';
import { RewardIndex, type DiscoveryReport } from '../core/rewardIndex';
import { isInSkippedDir, sourceKindOf } from '../core/sourceFiles';
import { detectTrlProfile, NEWEST_PROFILE, type TrlProfile } from '../core/trlProfile';
import { findInterpreter } from '../../interpreter';
import type { Problem, Range } from '../../shared/vocabulary';
import { editorLocation, isNotebookFile, notebookText, openNotebook, type CellLookup } from './notebookCells';

const EMPTY_REPORT: DiscoveryReport = { rewards: [], problemsByFile: new Map(), skippedLarge: [], unchecked: [], notices: [] };

/**
 * Owns the workspace's reward index: scans once, then re-reads only the file that changed
 * (from the editor buffer while typing, debounced) and publishes diagnostics for the files
 * whose verdicts changed.
 */
export class DiscoveryService implements vscode.Disposable {
  private index?: RewardIndex;
  private readonly diagnostics = vscode.languages.createDiagnosticCollection('grpo-studio');
  private readonly changed = new vscode.EventEmitter<DiscoveryReport>();
  private readonly disposables: vscode.Disposable[] = [this.diagnostics, this.changed];
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private published = new Map<string, string>();
  /** The cell documents each notebook's diagnostics were set on, to clear them when it changes or closes. */
  private readonly notebookCellUris = new Map<string, vscode.Uri[]>();
  private scanning?: Promise<void>;
  report: DiscoveryReport = EMPTY_REPORT;
  /** The TRL release the verdicts are for, and where that came from. */
  trl: TrlProfile = NEWEST_PROFILE;
  readonly onDidChange = this.changed.event;

  constructor(private readonly ctx: Ctx) {}

  async start(): Promise<void> {
    const watcher = vscode.workspace.createFileSystemWatcher('**/*.{py,yaml,yml}');
    // The datasets trainers and configs read decide column and format verdicts.
    const dataWatcher = vscode.workspace.createFileSystemWatcher('**/*.{jsonl,json,csv,tsv,parquet}');
    const dataChanged = (uri: vscode.Uri) => this.apply(() => this.index?.dataChanged(uri.fsPath));
    this.disposables.push(
      watcher,
      dataWatcher,
      dataWatcher.onDidCreate(dataChanged),
      dataWatcher.onDidChange(dataChanged),
      dataWatcher.onDidDelete(dataChanged),
      watcher.onDidCreate((uri) => this.fileChanged(uri)),
      watcher.onDidChange((uri) => this.fileChanged(uri)),
      watcher.onDidDelete((uri) => this.fileDeleted(uri)),
      vscode.workspace.onDidChangeTextDocument((event) => {
        if (event.contentChanges.length > 0) this.scheduleUpdate(event.document);
      }),
      vscode.workspace.onDidChangeNotebookDocument((event) => {
        if (event.notebook.uri.scheme === 'file' && isNotebookFile(event.notebook.uri.fsPath)) this.scheduleNotebookUpdate(event.notebook);
      }),
      // A notebook's diagnostics live on its cell documents, which exist only while it is open.
      vscode.workspace.onDidOpenNotebookDocument(() => this.publish(true)),
      vscode.workspace.onDidCloseNotebookDocument(() => this.publish(true)),
      vscode.workspace.onDidCloseTextDocument((doc) => {
        // Back to the file on disk once the unsaved buffer is gone.
        if (doc.isDirty) this.fileChanged(doc.uri);
      }),
      vscode.workspace.onDidChangeWorkspaceFolders(() => void this.rescan()),
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (this.ctx.config.affectsDiscovery(event)) void this.rescan();
      }),
    );
    await this.rescan();
  }

  rescan(): Promise<void> {
    this.scanning = this.scan().catch((error: unknown) => {
      this.ctx.output.error(`Reward discovery failed: ${error instanceof Error ? error.stack : String(error)}`);
      void vscode.window.showErrorMessage(
        vscode.l10n.t('GRPO Studio could not scan the workspace for reward functions. See the GRPO Studio output for details.'),
      );
    });
    return this.scanning;
  }

  /** Resolves when the first (or current) scan has finished. */
  whenReady(): Promise<void> {
    return this.scanning ?? Promise.resolve();
  }

  /** The problems of the latest report at a file, for code actions. */
  problemsAt(file: string): Problem[] {
    return this.report.problemsByFile.get(file) ?? [];
  }

  private async scan(): Promise<void> {
    const started = performance.now();
    const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file');
    const roots = folders.map((f) => f.uri.fsPath);
    const { config } = this.ctx;
    // Not through the Python extension: activating it would hold up the first scan. Its
    // site-packages are read, nothing is run, so this holds in an untrusted workspace too.
    const interpreter = await findInterpreter(config, folders[0], { askPythonExtension: false });
    this.trl = detectTrlProfile({
      explicit: config.trlVersion ? { version: config.trlVersion, source: 'grpoStudio.trlVersion' } : undefined,
      python: interpreter.path,
      roots,
    });
    const index = new RewardIndex({
      roots,
      parser: await loadPythonParser(this.ctx.distPath),
      l10n: vscode.l10n,
      columns: config.datasetColumns,
      format: config.datasetFormat,
      byShape: config.discoverByShape,
      maxFileBytes: config.maxFileBytes,
      isExcluded: excludePredicate(roots, [...config.filesExclude, ...config.discoveryExclude]),
      trl: this.trl,
    });
    index.scan();
    for (const doc of vscode.workspace.textDocuments) {
      if (doc.isDirty && doc.uri.scheme === 'file') index.update(doc.uri.fsPath, doc.getText());
    }
    this.index = index;
    this.publish();
    const { rewards, skippedLarge, unchecked, notices } = this.report;
    this.ctx.output.info(
      `Found ${rewards.length} reward function(s) in ${Math.round(performance.now() - started)} ms; checked for TRL ${this.trl.version} (${this.trl.source}).`,
    );
    for (const file of skippedLarge) {
      this.ctx.output.warn(`Skipped ${file}: larger than grpoStudio.discovery.maxFileSizeKb.`);
    }
    for (const { file, reason } of unchecked) this.ctx.output.warn(`Skipped ${file}: ${reason}`);
    for (const { file, message } of notices) this.ctx.output.warn(`${file}: ${message}`);
    const attention = [...unchecked, ...notices.map(({ file, message }) => ({ file, reason: message }))];
    if (attention.length > 0) {
      const [first] = attention;
      void vscode.window.showWarningMessage(
        vscode.l10n.t('GRPO Studio did not check {0}: {1}', vscode.workspace.asRelativePath(first.file), first.reason) +
          (attention.length > 1 ? ` ${vscode.l10n.t('({0} more in the output)', attention.length - 1)}` : ''),
      );
    }
    if (skippedLarge.length > 0) {
      void vscode.window.showInformationMessage(
        vscode.l10n.t(
          'GRPO Studio skipped {0} file(s) larger than grpoStudio.discovery.maxFileSizeKb. Raise the setting to check them.',
          skippedLarge.length,
        ),
      );
    }
  }

  private scheduleUpdate(doc: vscode.TextDocument): void {
    if (doc.uri.scheme !== 'file' || !sourceKindOf(doc.uri.fsPath)) return;
    this.debounced(doc.uri.fsPath, () => doc.getText());
  }

  private scheduleNotebookUpdate(notebook: vscode.NotebookDocument): void {
    this.debounced(notebook.uri.fsPath, () => notebookText(notebook));
  }

  /** Re-checks `file` with the text the editor has, once typing pauses. */
  private debounced(file: string, text: () => string): void {
    clearTimeout(this.pending.get(file));
    this.pending.set(
      file,
      setTimeout(() => {
        this.pending.delete(file);
        this.apply(() => this.index?.update(file, text()));
      }, this.ctx.config.debounceMs),
    );
  }

  /** For a notebook: the cell (0-based among all cells) and line in it of a 0-based module line. */
  readonly cellOf: CellLookup = (file, line) => this.index?.cellOf(file, line);

  private fileChanged(uri: vscode.Uri): void {
    const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    if (open?.isDirty) return; // the buffer, not the disk, is what the user sees
    this.apply(() => this.index?.update(uri.fsPath));
  }

  private fileDeleted(uri: vscode.Uri): void {
    this.apply(() => this.index?.remove(uri.fsPath));
  }

  private apply(change: () => string[] | undefined): void {
    if (!this.index) return;
    try {
      const affected = change();
      if (affected && affected.length > 0) this.publish();
    } catch (error) {
      this.ctx.output.error(`Reward check failed: ${error instanceof Error ? error.stack : String(error)}`);
    }
  }

  /** `notebooksOnly`: a notebook opened or closed, so its cells' diagnostics go where its cells are now. */
  private publish(notebooksOnly = false): void {
    if (!this.index) return;
    if (!notebooksOnly) this.report = this.index.report();
    const next = new Map<string, string>();
    for (const [file, problems] of this.report.problemsByFile) {
      const notebook = isNotebookFile(file);
      const key = JSON.stringify([
        notebook && openNotebook(file) !== undefined,
        ...problems.map((p) => [p.code, p.range, p.message, p.severity]),
      ]);
      next.set(file, key);
      if (this.published.get(file) === key) continue;
      if (notebook) this.publishNotebook(file, problems);
      else
        this.diagnostics.set(
          vscode.Uri.file(file),
          problems.map((p) => toDiagnostic(p, toRange(p.range))),
        );
    }
    for (const file of this.published.keys()) {
      if (next.has(file)) continue;
      if (isNotebookFile(file)) this.publishNotebook(file, []);
      else this.diagnostics.delete(vscode.Uri.file(file));
    }

    this.published = next;
    if (!notebooksOnly) this.changed.fire(this.report);
  }

  /** A notebook's problems on its cells (only while it is open: closed, its cells are no documents). */
  private publishNotebook(file: string, problems: readonly Problem[]): void {
    const byCell = new Map<string, { uri: vscode.Uri; diagnostics: vscode.Diagnostic[] }>();
    for (const notebook of vscode.workspace.notebookDocuments.filter((n) => n.uri.fsPath === file)) {
      for (const cell of notebook.getCells()) byCell.set(cell.document.uri.toString(), { uri: cell.document.uri, diagnostics: [] });
    }
    for (const problem of problems) {
      const place = editorLocation(file, problem.range, this.cellOf);
      if (place) byCell.get(place.uri.toString())?.diagnostics.push(toDiagnostic(problem, place.range));
    }
    for (const uri of this.notebookCellUris.get(file) ?? []) this.diagnostics.delete(uri);
    for (const { uri, diagnostics } of byCell.values()) this.diagnostics.set(uri, diagnostics);
    this.notebookCellUris.set(
      file,
      [...byCell.values()].map((c) => c.uri),
    );
  }

  dispose(): void {
    for (const timer of this.pending.values()) clearTimeout(timer);
    for (const d of this.disposables) d.dispose();
  }
}

export function toRange(range: Range): vscode.Range {
  return new vscode.Range(range.start.line, range.start.character, range.end.line, range.end.character);
}

function toDiagnostic(problem: Problem, range: vscode.Range): vscode.Diagnostic {
  const severity = {
    error: vscode.DiagnosticSeverity.Error,
    warning: vscode.DiagnosticSeverity.Warning,
    info: vscode.DiagnosticSeverity.Information,
  }[problem.severity];
  const diagnostic = new vscode.Diagnostic(range, problem.message, severity);
  diagnostic.source = 'GRPO Studio';
  diagnostic.code = problem.code;
  return diagnostic;
}

/** `files.exclude`-style globs, matched against paths relative to their workspace folder. */
function excludePredicate(roots: string[], globs: string[]): (file: string, isDirectory: boolean) => boolean {
  const matchers = globs.map((g) => picomatch(g, { dot: true }));
  return (file) => {
    const root = roots.find((r) => file.startsWith(r + path.sep));
    if (!root) return false;
    const rel = path.relative(root, file).split(path.sep).join('/');
    return isInSkippedDir(rel) || matchers.some((m) => m(rel));
  };
}
