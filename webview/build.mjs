// esbuild options for the webview pages (browser code, apart from the Node bundles):
// dist/webview/rewardPreview.js|css and dist/webview/dashboard.js|css.
export function webviewBuild({ production = false } = {}) {
  return {
    entryPoints: [
      { in: 'webview/rewardPreview/main.ts', out: 'rewardPreview' },
      { in: 'webview/rewardPreview/style.css', out: 'rewardPreview' },
      { in: 'webview/dashboard/main.ts', out: 'dashboard' },
      { in: 'webview/dashboard/style.css', out: 'dashboard' },
    ],
    outdir: 'dist/webview',
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'chrome120',
    minify: production,
    sourcemap: !production,
    logLevel: 'info',
  };
}
