// `node scripts/run-charts.mjs RUN_DIR OUT_PREFIX [TITLE ...]`: PNGs of a run's charts for the docs,
// drawn by `grpo-studio report` from the run's own events.jsonl and captured in Chromium, one per
// chart title (default: reward and completion lengths): OUT_PREFIX-<title>.png.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { ensureChromium } from './setup-code-server.mjs';

const root = new URL('..', import.meta.url).pathname;
const [runDir, outPrefix, ...titles] = process.argv.slice(2);
if (!runDir || !outPrefix) {
  console.error('usage: node scripts/run-charts.mjs RUN_DIR OUT_PREFIX [TITLE ...]');
  process.exit(2);
}
const scratch = mkdtempSync(path.join(tmpdir(), 'grpo-run-charts-'));
const report = path.join(scratch, 'report.html');
execFileSync(process.execPath, [path.join(root, 'dist', 'cli.js'), 'report', runDir, '--out', report], { stdio: 'inherit' });
const browser = await chromium.launch({ executablePath: await ensureChromium(), args: ['--no-sandbox', '--disable-gpu'] });
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 }, deviceScaleFactor: 2, colorScheme: 'light' });
  await page.goto(pathToFileURL(report).href);
  for (const title of titles.length ? titles : ['reward', 'completion lengths']) {
    const out = `${outPrefix}-${title.replace(/\W+/g, '-')}.png`;
    await page.locator(`svg.chart[aria-label="${title}"]`).screenshot({ path: out });
    console.log(out);
  }
} finally {
  await browser.close();
  rmSync(scratch, { recursive: true, force: true });
}
