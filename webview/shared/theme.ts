/** Colors for the chart, read from the VS Code theme variables of the webview. */
export interface ChartTheme {
  foreground: string;
  grid: string;
  /** For bars of groups without learning signal. */
  muted: string;
  series: string[];
  tooltip: { background: string; foreground: string; border: string };
  font: { family: string; size: number };
}

const SERIES = ['blue', 'orange', 'green', 'purple', 'yellow', 'red'].map((name) => `--vscode-charts-${name}`);

export function readChartTheme(): ChartTheme {
  // VS Code sets the variables on <html>; reading them from <body> also sees ones set lower down.
  const style = getComputedStyle(document.body);
  const read = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  const foreground = read('--vscode-foreground', style.color);
  return {
    foreground,
    grid: read('--vscode-charts-lines', read('--vscode-panel-border', foreground)),
    muted: read('--vscode-disabledForeground', read('--vscode-descriptionForeground', foreground)),
    series: SERIES.map((name) => read(name, foreground)),
    tooltip: {
      background: read('--vscode-editorHoverWidget-background', read('--vscode-editor-background', 'Canvas')),
      foreground: read('--vscode-editorHoverWidget-foreground', foreground),
      border: read('--vscode-editorHoverWidget-border', foreground),
    },
    font: {
      family: read('--vscode-font-family', style.fontFamily),
      size: parseFloat(read('--vscode-font-size', style.fontSize)) || 13,
    },
  };
}

/**
 * Calls `callback` (once per frame at most) when the theme changes: VS Code swaps the body's
 * `vscode-light` / `vscode-dark` / `vscode-high-contrast` class and rewrites the variables on <html>.
 */
export function onThemeChange(callback: () => void): void {
  let pending = false;
  const schedule = () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      callback();
    });
  };
  const observer = new MutationObserver(schedule);
  observer.observe(document.body, { attributes: true, attributeFilter: ['class', 'data-vscode-theme-id'] });
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ['style'] });
}
