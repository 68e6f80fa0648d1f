import * as crypto from 'node:crypto';
import * as vscode from 'vscode';
import { renderWebviewHtml } from './shared/html';

export interface PagePanelOptions {
  viewType: string;
  title: string;
  /** The page's bundle: dist/webview/<page>.js and <page>.css. */
  page: 'rewardPreview' | 'dashboard';
  showOptions: vscode.ViewColumn | { viewColumn: vscode.ViewColumn; preserveFocus?: boolean };
  retainContextWhenHidden?: boolean;
  /** Every message the page posts, unchecked: the caller parses it with its protocol. */
  onMessage(raw: unknown): void;
  onDispose(): void;
  disposables: vscode.Disposable[];
}

/**
 * One of the extension's pages in a webview panel, the same way for each: scripts only from
 * dist/webview, the strict CSP of shared/html.ts with a fresh nonce per load, the UI language.
 */
export function openPagePanel(extensionUri: vscode.Uri, options: PagePanelOptions): vscode.WebviewPanel {
  const dist = vscode.Uri.joinPath(extensionUri, 'dist', 'webview');
  const panel = vscode.window.createWebviewPanel(options.viewType, options.title, options.showOptions, {
    enableScripts: true,
    retainContextWhenHidden: options.retainContextWhenHidden,
    localResourceRoots: [dist],
  });
  const asset = (name: string) => panel.webview.asWebviewUri(vscode.Uri.joinPath(dist, name)).toString();
  panel.webview.html = renderWebviewHtml({
    title: options.title,
    cspSource: panel.webview.cspSource,
    nonce: crypto.randomBytes(16).toString('base64'),
    scriptUri: asset(`${options.page}.js`),
    styleUri: asset(`${options.page}.css`),
    language: vscode.env.language,
  });
  panel.webview.onDidReceiveMessage(options.onMessage, undefined, options.disposables);
  panel.onDidDispose(options.onDispose, undefined, options.disposables);
  return panel;
}
