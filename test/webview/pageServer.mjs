// Shared by the webview tests: host modules bundled for Node, and a local server that serves a
// webview page exactly as the extension builds it (its strict CSP sent as a header too).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

const root = new URL('../..', import.meta.url).pathname;
const TYPES = { '.js': 'text/javascript', '.css': 'text/css', '.map': 'application/json' };

/** `exportLines` (`export { x } from './src/…'`, relative to the repository) as one ES module. */
export async function bundleHostModules(outdir, exportLines) {
  const outfile = join(outdir, 'host.mjs');
  await esbuild.build({
    stdin: {
      contents: ["export { renderWebviewHtml, webviewCsp } from './src/shared/html.ts';", ...exportLines].join('\n'),
      resolveDir: root,
      loader: 'ts',
    },
    bundle: true,
    format: 'esm',
    platform: 'node',
    outfile,
    logLevel: 'warning',
  });
  return import(pathToFileURL(outfile).href);
}

/**
 * Serves `<bundle>.js/.css` from `outdir` and the page at `/`, in Japanese, dark theme, with a
 * stand-in for VS Code's theme variables. Resolves to `{ origin, server }`.
 */
export function startPageServer({ host, outdir, bundle, title }) {
  const files = { '/vscode-theme.css': join(root, 'test', 'webview', 'vscode-theme.css') };
  for (const suffix of ['.js', '.css', '.js.map', '.css.map']) files[`/${bundle}${suffix}`] = join(outdir, `${bundle}${suffix}`);
  let origin;
  const page = (nonce) =>
    host
      .renderWebviewHtml({
        cspSource: origin,
        nonce,
        scriptUri: `${origin}/${bundle}.js`,
        styleUri: `${origin}/${bundle}.css`,
        language: 'ja',
        title,
      })
      .replace('</head>', `<link rel="stylesheet" href="${origin}/vscode-theme.css">\n</head>`)
      .replace('<body>', '<body class="vscode-dark">');
  const server = createServer((request, response) => {
    const path = new URL(request.url, origin).pathname;
    if (path === '/') {
      const nonce = randomBytes(16).toString('base64');
      response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': host.webviewCsp(origin, nonce) });
      response.end(page(nonce));
    } else if (files[path]) {
      response.writeHead(200, { 'Content-Type': `${TYPES[extname(path)]}; charset=utf-8` });
      response.end(readFileSync(files[path]));
    } else if (path === '/favicon.ico') {
      response.writeHead(204).end(); // a webview asks for none; a plain page would log a 404
    } else {
      response.writeHead(404).end();
    }
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      origin = `http://127.0.0.1:${server.address().port}`;
      resolve({ origin, server });
    }),
  );
}
