import { createHash } from 'node:crypto';

/** What a host passes to build one of the extension's webview pages (no `vscode` import: plain strings). */
export interface WebviewHtmlOptions {
  /** `webview.cspSource`. */
  cspSource: string;
  /** A fresh random nonce per page load (base64 or hex). */
  nonce: string;
  /** `webview.asWebviewUri` of the page's bundle in dist/webview/. */
  scriptUri: string;
  /** `webview.asWebviewUri` of its stylesheet. */
  styleUri: string;
  /** `vscode.env.language`, for the page's `lang` (CJK glyph variants, clock times). */
  language?: string;
  title: string;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (value: string): string => value.replace(/[&<>"']/g, (c) => ESCAPES[c]);

/** The pages' Content-Security-Policy: no inline styles or scripts, nothing from the network. */
export function webviewCsp(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} data:`,
    `style-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
    `font-src ${cspSource}`,
  ].join('; ');
}

export function renderWebviewHtml({ cspSource, nonce, scriptUri, styleUri, language = 'en', title }: WebviewHtmlOptions): string {
  return `<!DOCTYPE html>
<html lang="${escapeHtml(language)}">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="${escapeHtml(webviewCsp(cspSource, nonce))}">
  <meta name="viewport" content="width=device-width, initial-scale=1.0">
  <link rel="stylesheet" href="${escapeHtml(styleUri)}">
  <title>${escapeHtml(title)}</title>
</head>
<body>
  <script nonce="${escapeHtml(nonce)}" src="${escapeHtml(scriptUri)}"></script>
</body>
</html>
`;
}

/** Content-Security-Policy of the static page: nothing but its own inline stylesheet (by hash); no script at all. */
export function staticPageCsp(style: string): string {
  const hash = createHash('sha256').update(style, 'utf8').digest('base64');
  return ["default-src 'none'", `style-src 'sha256-${hash}'`, 'img-src data:'].join('; ');
}
