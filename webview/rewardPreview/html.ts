/** What the host passes to build the Reward Preview page (no `vscode` import: plain strings). */
export interface PanelHtmlOptions {
  /** `webview.cspSource`. */
  cspSource: string;
  /** A fresh random nonce per page load (base64 or hex). */
  nonce: string;
  /** `webview.asWebviewUri` of dist/webview/rewardPreview.js. */
  scriptUri: string;
  /** `webview.asWebviewUri` of dist/webview/rewardPreview.css. */
  styleUri: string;
  /** `vscode.env.language`, for the page's `lang` (it picks CJK glyph variants). */
  language?: string;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escape = (value: string) => value.replace(/[&<>"']/g, (c) => ESCAPES[c]);

/** The page's Content-Security-Policy: no inline styles or scripts, nothing from the network. */
export function panelCsp(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} data:`,
    `style-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
    `font-src ${cspSource}`,
  ].join('; ');
}

export function renderPanelHtml({ cspSource, nonce, scriptUri, styleUri, language = 'en' }: PanelHtmlOptions): string {
  return `<!DOCTYPE html>
<html lang="${escape(language)}">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="${escape(panelCsp(cspSource, nonce))}">
  <meta name="viewport" content="width=device-width, initial-scale=1.0">
  <link rel="stylesheet" href="${escape(styleUri)}">
  <title>Reward Preview</title>
</head>
<body>
  <script nonce="${escape(nonce)}" src="${escape(scriptUri)}"></script>
</body>
</html>
`;
}
