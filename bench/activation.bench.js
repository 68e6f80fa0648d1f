// Times loading dist/extension.js and running activate() against a recording stand-in for the
// `vscode` module (the real VS Code cannot be timed per extension from outside). What is measured
// is the extension's own cost: module evaluation and the synchronous part of activate().
const Module = require('node:module');
const path = require('node:path');

const noop = () => ({ dispose() {} });
const handler = {
  get(target, prop) {
    if (prop in target) return target[prop];
    return new Proxy(function () {}, handler);
  },
  apply() {
    return new Proxy({ dispose() {}, event: noop }, handler);
  },
  construct() {
    return new Proxy({ dispose() {}, event: noop, fire() {} }, handler);
  },
};
const deep = () => new Proxy(function () {}, handler);
const vscode = {
  workspace: new Proxy({ workspaceFolders: [], textDocuments: [] }, handler),
  window: deep(),
  languages: deep(),
  commands: deep(),
  l10n: { t: (m) => m },
  // Paths are real: activation reads files of the extension (the TRL schema).
  Uri: { joinPath: (base, ...parts) => ({ fsPath: path.join(base.fsPath, ...parts) }), file: (fsPath) => ({ fsPath }) },
  EventEmitter: deep(),
  ThemeIcon: deep(),
  ThemeColor: deep(),
  TreeItem: deep(),
  Range: deep(),
  Diagnostic: deep(),
  DiagnosticSeverity: {},
  StatusBarAlignment: {},
  CodeActionKind: deep(),
  CodeAction: deep(),
  WorkspaceEdit: deep(),
  TreeItemCollapsibleState: {},
  TextEditorRevealType: {},
  MarkdownString: deep(),
};
const originalLoad = Module._load;
Module._load = function (request, ...rest) {
  return request === 'vscode' ? vscode : originalLoad.call(this, request, ...rest);
};

const extensionPath = path.resolve(__dirname, '..', 'dist', 'extension.js');
const t0 = performance.now();
const extension = require(extensionPath);
const loaded = performance.now();
const extensionRoot = path.dirname(path.dirname(extensionPath));
// The parts of an ExtensionContext activate() reads: where the extension is, and the workspace's remembered state.
const memento = () => {
  const values = new Map();
  return {
    get: (key, fallback) => (values.has(key) ? values.get(key) : fallback),
    update: async (key, value) => void values.set(key, value),
    keys: () => [...values.keys()],
  };
};
extension.activate({
  subscriptions: [],
  extensionUri: { fsPath: extensionRoot },
  extensionPath: extensionRoot,
  workspaceState: memento(),
  globalState: memento(),
});
const activated = performance.now();
process.stdout.write(JSON.stringify({ loadMs: loaded - t0, activateMs: activated - loaded, totalMs: activated - t0 }));
// What activate() started (watchers, timers) would keep this stand-in host alive.
process.exit(0);
