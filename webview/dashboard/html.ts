import { panelCsp } from '../rewardPreview/html';

/** What the host passes to build the Dashboard page (no `vscode` import: plain strings). */
export interface DashboardHtmlOptions {
  /** `webview.cspSource`. */
  cspSource: string;
  /** A fresh random nonce per page load (base64 or hex). */
  nonce: string;
  /** `webview.asWebviewUri` of dist/webview/dashboard.js. */
  scriptUri: string;
  /** `webview.asWebviewUri` of dist/webview/dashboard.css. */
  styleUri: string;
  /** `vscode.env.language`, for the page's `lang` (CJK glyphs, clock times on the x axis). */
  language?: string;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escape = (value: string) => value.replace(/[&<>"']/g, (c) => ESCAPES[c]);

/** The same policy as the Reward Preview: no inline styles or scripts, nothing from the network. */
export const dashboardCsp = panelCsp;

export function renderDashboardHtml({ cspSource, nonce, scriptUri, styleUri, language = 'en' }: DashboardHtmlOptions): string {
  return `<!DOCTYPE html>
<html lang="${escape(language)}">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="${escape(dashboardCsp(cspSource, nonce))}">
  <meta name="viewport" content="width=device-width, initial-scale=1.0">
  <link rel="stylesheet" href="${escape(styleUri)}">
  <title>GRPO Dashboard</title>
</head>
<body>
  <script nonce="${escape(nonce)}" src="${escape(scriptUri)}"></script>
</body>
</html>
`;
}
