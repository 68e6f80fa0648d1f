// End-to-end harness: the packaged extension inside a real VS Code (code-server from npm),
// driven by Debian's Chromium through playwright-core.
//
// Scenario files `test/e2e/*.e2e.mjs` (run by test/e2e/run.mjs) look like:
//
//   export const options = {                  // all optional
//     workspace: 'examples/emoji-length',     // folder (relative to the repo) copied into the temp workspace
//     files: { 'reward.py': 'def r(completions, **kw): ...' },  // extra files written there
//     settings: { 'grpoStudio.discovery.byShape': false },      // merged into the user settings.json
//     workspaceName: 'my ws',                 // last path segment (default 'ワークスペース テスト')
//     timeoutMs: 120000,
//   };
//   export async function run(ctx) { ... }
//
// ctx (helpers are bound to ctx.page):
//   page                    playwright Page showing the workbench with `workspace` open
//   workspace               absolute path of a fresh temp copy (its path has spaces and Japanese)
//   repoRoot, server        repo root; { url, port, pid, userDataDir, extensionsDir, logFile }
//   assert                  node:assert/strict
//   log(...args)            prints under the scenario's name
//   runCommand(title)       F1, types the title, runs the matching entry (e.g. 'GRPO: Show Output')
//   pickQuickItem(text)     types text into the open quick pick and chooses the entry showing it
//   openFile(relPath)       Ctrl+P quick open; waits until its editor tab is active; returns the editor locator
//   screenshot(name)        PNG into test-results/e2e/<scenario>-<name>.png; returns its path
//   frames()                all frames of the page (webview content is in nested iframes)
//   findFrame(selector)     waits for the first frame that has `selector` (webviews); returns the Frame
//   openViewContainer(title) clicks the activity bar entry (e.g. 'GRPO'); returns the sidebar locator
//   waitForTreeItem(text)   waits for a sidebar tree row containing text; returns its locator
//   waitForNotification(text) waits for a notification toast containing text; returns its locator
//   decorationTexts()       texts of the editor's inline decorations (drawn as CSS content, not DOM text)
//   waitFor(fn, opts)       polls fn() until truthy: { timeoutMs=15000, intervalMs=100, message }
//   setSettings(obj)        merges obj into the workspace's .vscode/settings.json; applied live (~0.3 s).
//                           (options.settings go to the user settings.json, read when the window opens;
//                           code-server does not reload that file live.)
//   writeFile(relPath, s)   writes a file inside the workspace (creates folders)
//   consoleErrors           browser console errors seen so far (strings)
// The same helpers are exported below with the page as first argument (runCommand(page, title)...).
// Lower level: startCodeServer(), launchBrowser(), openWorkspace(), makeWorkspace(), removeWorkspace(),
// setWorkspaceSettings(), installExtension(), getFreePort(), onInterrupt(). GRPO_E2E_KEEP=1 keeps temp dirs.

import { spawn } from 'node:child_process';
import { cpSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { exec, REPO_ROOT, ensureChromium } from '../../scripts/setup-code-server.mjs';

export { REPO_ROOT };
export const RESULTS_DIR = path.join(REPO_ROOT, 'test-results', 'e2e');
export const DEFAULT_SETTINGS = {
  'workbench.startupEditor': 'none',
  'security.workspace.trust.enabled': false,
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'extensions.ignoreRecommendations': true,
  'git.enabled': false,
  'git.openRepositoryInParentFolders': 'never',
  'chat.disableAIFeatures': true,
  'window.dialogStyle': 'custom',
};
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-dev-shm-usage',
];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls fn() until it returns a truthy value (returned). Errors thrown by fn count as "not yet". */
export async function waitFor(fn, { timeoutMs = 15000, intervalMs = 100, message = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${message}${lastError ? `: ${lastError.message}` : ''}`);
    }
    await sleep(intervalMs);
  }
}

export function getFreePort(host = '127.0.0.1', port = 0) {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen({ host, port, exclusive: true }, () => {
      const { port: p } = srv.address();
      srv.close(() => resolve(p));
    });
  });
}

/** The first free port at or after `start` (for the demo's fixed-but-flexible port). */
export async function findPortFrom(start, host = '127.0.0.1', tries = 50) {
  for (let p = start; p < start + tries; p++) {
    try {
      return await getFreePort(host, p);
    } catch {}
  }
  return getFreePort(host);
}

// ---- process bookkeeping: everything started here is stopped on exit, failure or Ctrl+C ----
const live = new Set(); // { pid, child }
function killGroupSync(pid, signal) {
  try {
    process.kill(-pid, signal); // the code-server we started leads its own process group
  } catch {
    try {
      process.kill(pid, signal);
    } catch {}
  }
}
function groupAlive(pid) {
  try {
    process.kill(-pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}
let hooksInstalled = false;
const cleanups = new Set(); // async () => void, run on SIGINT/SIGTERM
export function onInterrupt(fn) {
  installHooks();
  cleanups.add(fn);
  return () => cleanups.delete(fn);
}
function installHooks() {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => {
    for (const p of live) killGroupSync(p.pid, 'SIGKILL');
    if (!process.env.GRPO_E2E_KEEP) for (const root of workspaceRoots) rmSync(root, { recursive: true, force: true });
  });
  let interrupted = false;
  const onSignal = async (sig) => {
    if (interrupted) process.exit(130);
    interrupted = true;
    console.error(`\n${sig}: stopping...`);
    await Promise.allSettled([...cleanups].map((fn) => fn()));
    for (const p of live) killGroupSync(p.pid, 'SIGKILL');
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, onSignal);
}

function writeJson(file, value) {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(value, null, 2) + '\n');
}

/** Installs a .vsix (or extension id) with code-server's CLI into the given dirs. */
export async function installExtension({ bin, userDataDir, extensionsDir }, vsix) {
  const r = await exec(bin, ['--user-data-dir', userDataDir, '--extensions-dir', extensionsDir, '--install-extension', vsix, '--force']);
  const text = r.stdout + r.stderr;
  if (r.code !== 0 || !/successfully installed|already installed/i.test(text)) {
    throw new Error(`installing ${vsix} failed (exit ${r.code}):\n${text}`);
  }
  const list = await exec(bin, ['--user-data-dir', userDataDir, '--extensions-dir', extensionsDir, '--list-extensions', '--show-versions']);
  return list.stdout.trim().split('\n').filter(Boolean);
}

/**
 * Starts code-server on 127.0.0.1. Options:
 *   bin (from ensureCodeServer), vsix (a path or several, installed before start), settings (merged over DEFAULT_SETTINGS),
 *   userDataDir/extensionsDir (default: fresh temp dirs, removed by stop()), port (default: a free one),
 *   folder (opened when the URL has no ?folder=), locale, logFile, env, readyTimeoutMs,
 *   beforeStart({ userDataDir, extensionsDir }) (after the installs, before the server starts).
 * Returns { url, port, pid, userDataDir, extensionsDir, logFile, extensions, setSettings(obj), urlFor(folder), stop() }.
 */
export async function startCodeServer(opts) {
  const { bin, vsix, folder, locale, env, readyTimeoutMs = 60000 } = opts;
  installHooks();
  const tmpRoot = opts.userDataDir ? null : mkdtempSync(path.join(os.tmpdir(), 'grpo-e2e-cs-'));
  const userDataDir = opts.userDataDir ?? path.join(tmpRoot, 'user-data');
  const extensionsDir = opts.extensionsDir ?? path.join(tmpRoot, 'extensions');
  mkdirSync(userDataDir, { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  const configFile = path.join(userDataDir, 'code-server-config.yaml');
  if (!existsSync(configFile)) writeFileSync(configFile, 'auth: none\n'); // keeps ~/.config/code-server untouched
  const settingsFile = path.join(userDataDir, 'User', 'settings.json');
  const setSettings = (overrides = {}) => writeJson(settingsFile, { ...DEFAULT_SETTINGS, ...overrides });
  if (opts.settings !== undefined || !existsSync(settingsFile)) setSettings(opts.settings ?? {});

  let extensions = [];
  for (const one of [vsix ?? []].flat()) extensions = await installExtension({ bin, userDataDir, extensionsDir }, one);
  await opts.beforeStart?.({ userDataDir, extensionsDir });

  const logFile = opts.logFile ?? path.join(RESULTS_DIR, 'code-server.log');
  mkdirSync(path.dirname(logFile), { recursive: true });
  const logStream = createWriteStream(logFile, { flags: 'a' });

  let lastError;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = opts.port ?? (await getFreePort());
    const args = [
      '--config',
      configFile,
      '--auth',
      'none',
      '--bind-addr',
      `127.0.0.1:${port}`,
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-getting-started-override',
      '--ignore-last-opened',
      '--user-data-dir',
      userDataDir,
      '--extensions-dir',
      extensionsDir,
      ...(locale ? ['--locale', locale] : []),
      ...(folder ? [folder] : []),
    ];
    const child = spawn(bin, args, {
      detached: true, // own process group: stop() kills code-server and its extension hosts together
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    const proc = { pid: child.pid, child };
    live.add(proc);
    let output = '';
    const onData = (d) => {
      logStream.write(d);
      if (output.length < 20000) output += d;
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    let exited = null;
    const exitPromise = new Promise((resolve) =>
      child.on('exit', (code, signal) => {
        exited = { code, signal };
        live.delete(proc);
        resolve(exited);
      }),
    );
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitFor(
        async () => {
          if (exited) throw Object.assign(new Error(`code-server exited (${exited.code ?? exited.signal}):\n${output}`), { fatal: true });
          const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
          return res.ok;
        },
        { timeoutMs: readyTimeoutMs, intervalMs: 150, message: `code-server on ${url}` },
      ).catch((err) => {
        if (exited) throw new Error(`code-server exited (${exited.code ?? exited.signal}):\n${output}`);
        throw err;
      });
    } catch (err) {
      lastError = err;
      killGroupSync(child.pid, 'SIGKILL');
      await Promise.race([exitPromise, sleep(3000)]);
      if (opts.port || !/EADDRINUSE/.test(output)) break; // retry only a lost race for the port
      continue;
    }
    let stopping;
    const stop = () =>
      (stopping ??= (async () => {
        if (!exited) {
          killGroupSync(child.pid, 'SIGTERM');
          await Promise.race([exitPromise, sleep(5000)]);
        }
        killGroupSync(child.pid, 'SIGKILL'); // stragglers of the group (extension hosts, pty host)
        await waitFor(() => !groupAlive(child.pid), { timeoutMs: 3000, intervalMs: 50 }).catch(() => {});
        live.delete(proc);
        await new Promise((r) => logStream.end(r));
        if (tmpRoot && !process.env.GRPO_E2E_KEEP) rmSync(tmpRoot, { recursive: true, force: true, maxRetries: 5 });
      })());
    return {
      bin,
      url,
      port,
      pid: child.pid,
      userDataDir,
      extensionsDir,
      logFile,
      extensions,
      setSettings,
      // Slashes stay readable; spaces, Japanese, #, & and + are percent-encoded.
      urlFor: (dir) => `${url}/?folder=${encodeURIComponent(dir).replaceAll('%2F', '/')}`,
      exited: () => exited,
      stop,
    };
  }
  logStream.end();
  if (tmpRoot && !process.env.GRPO_E2E_KEEP) rmSync(tmpRoot, { recursive: true, force: true });
  throw lastError;
}

/** Launches Debian's Chromium headless (GRPO_E2E_HEADED=1 for a visible one). */
export async function launchBrowser(opts = {}) {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: await ensureChromium(),
    headless: !process.env.GRPO_E2E_HEADED,
    args: CHROMIUM_ARGS,
    ...opts,
  });
}

/**
 * A fresh temp workspace whose path contains spaces and Japanese characters.
 * from: folder to copy (absolute or relative to the repo); files: { relPath: content }.
 */
const workspaceRoots = new Set();
export function makeWorkspace({ from, files = {}, name = 'ワークスペース テスト' } = {}) {
  installHooks();
  const root = mkdtempSync(path.join(os.tmpdir(), 'grpo e2e 報酬-'));
  workspaceRoots.add(root);
  const dir = path.join(root, name);
  // Not a developer's own runs, nor models other than the tiny one the tests build (SmolLM2 is 270 MB).
  const skip = (src) =>
    path.basename(src) === 'runs' || (path.basename(path.dirname(src)) === 'models' && path.basename(src) !== 'tiny-qwen2');
  if (from) cpSync(path.resolve(REPO_ROOT, from), dir, { recursive: true, filter: (src) => !skip(src) });
  mkdirSync(dir, { recursive: true });
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(dir, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
  return dir;
}

/** Deletes a workspace made by makeWorkspace (kept with GRPO_E2E_KEEP=1). Leftovers go at exit. */
export function removeWorkspace(dir) {
  const root = path.dirname(dir);
  if (!workspaceRoots.has(root)) return;
  workspaceRoots.delete(root);
  if (!process.env.GRPO_E2E_KEEP) rmSync(root, { recursive: true, force: true, maxRetries: 5 });
}

/**
 * Opens `folder` in a new browser context and waits for the workbench.
 * Returns { page, context, consoleErrors }.
 */
export async function openWorkspace(browser, server, folder, { viewport = { width: 1400, height: 900 }, timeoutMs = 60000 } = {}) {
  const context = await browser.newContext({ viewport, locale: 'en-US' });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  const consoleErrors = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(msg.text());
  });
  page.on('pageerror', (err) => consoleErrors.push(String(err)));
  await page.goto(server.urlFor(folder), { waitUntil: 'domcontentloaded', timeout: timeoutMs });
  await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: timeoutMs });
  await page.locator('.monaco-workbench .part.activitybar').waitFor({ state: 'visible', timeout: timeoutMs });
  // The folder is open once the explorer/title knows it (the window title carries the folder name).
  const base = path.basename(folder);
  await waitFor(async () => (await page.title()).includes(base), { timeoutMs, message: `window title with "${base}"` });
  return { page, context, consoleErrors };
}

/**
 * Opens the quick-fix menu at the cursor (Ctrl+.) and waits for the action titled `title`. Pressed
 * right after the cursor moves, the request can go out for the old selection and answer "No code
 * actions available"; then the menu is closed and asked again, as a user would.
 */
export async function openQuickFix(page, title, { timeoutMs = 15000 } = {}) {
  const action = page.locator('.action-widget .monaco-list-row', { hasText: title }).first();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await page.keyboard.press('Control+.');
    try {
      await action.waitFor({ state: 'visible', timeout: Math.max(1000, Math.min(4000, deadline - Date.now())) });
      return action;
    } catch (error) {
      if (Date.now() >= deadline) throw error;
      await page.keyboard.press('Escape');
      await page.waitForTimeout(300);
    }
  }
}

/** Parks the mouse on an empty part of the title bar so hovers/tooltips do not cover screenshots. */
export async function moveMouseAway(page) {
  const size = page.viewportSize() ?? { width: 1400, height: 900 };
  await page.mouse.move(Math.round(size.width * 0.78), 6);
}

const quickInput = (page) => page.locator('.quick-input-widget');
const quickInputBox = (page) => page.locator('.quick-input-widget .quick-input-box input');

async function openQuickInput(page, key) {
  // Something in the workbench must have focus for keybindings; Escape closes leftovers first.
  if (await quickInput(page).isVisible()) await page.keyboard.press('Escape');
  await waitFor(
    async () => {
      if (!(await quickInputBox(page).isVisible())) {
        await page.keyboard.press(key);
        await quickInputBox(page).waitFor({ state: 'visible', timeout: 2000 });
      }
      return true;
    },
    { timeoutMs: 15000, message: `quick input (${key})` },
  );
}

async function chooseRow(page, text, { exact = false, timeoutMs = 15000 } = {}) {
  const rows = page.locator('.quick-input-widget .quick-input-list .monaco-list-row');
  const wanted = text.toLowerCase();
  const index = await waitFor(
    async () => {
      const labels = await rows.evaluateAll((els) =>
        els.map((el) => ({
          label: (el.querySelector('.label-name')?.textContent ?? el.textContent ?? '').trim(),
          aria: el.getAttribute('aria-label') ?? '',
          focused: el.classList.contains('focused'),
          index: Number(el.getAttribute('data-index')),
        })),
      );
      const match = (l) =>
        exact ? l.label.toLowerCase() === wanted : l.label.toLowerCase().includes(wanted) || l.aria.toLowerCase().includes(wanted);
      const focused = labels.find((l) => l.focused && match(l));
      if (focused) return { enter: true };
      const other = labels.find(match);
      return other ? { index: other.index } : null;
    },
    { timeoutMs, message: `a quick pick entry "${text}"` },
  );
  if (index.enter) await page.keyboard.press('Enter');
  else {
    await rows.and(page.locator(`[data-index="${index.index}"]`)).click();
    await moveMouseAway(page);
  }
  await quickInput(page)
    .waitFor({ state: 'hidden', timeout: 5000 })
    .catch(() => {});
}

/** Types `text` into the quick pick a command opened and chooses the entry that shows it. */
export async function pickQuickItem(page, text, opts = {}) {
  await quickInputBox(page).waitFor({ state: 'visible' });
  await quickInputBox(page).fill(text);
  await chooseRow(page, text, opts);
}

/** Runs a command by its palette title ("Category: Title"), like a user would. */
export async function runCommand(page, title, opts = {}) {
  await openQuickInput(page, 'F1');
  await quickInputBox(page).fill(`>${title}`);
  await chooseRow(page, title, opts);
}

/** Opens a workspace file with Ctrl+P; waits for its tab to be active; returns the active editor locator. */
export async function openFile(page, relPath, { timeoutMs = 20000 } = {}) {
  const rel = relPath.split(path.sep).join('/');
  const base = path.posix.basename(rel);
  await openQuickInput(page, 'Control+P');
  await quickInputBox(page).fill(rel);
  // Rows show "name  folder"; pick the one whose description matches the folder part.
  const dir = path.posix.dirname(rel);
  const rows = page.locator('.quick-input-widget .quick-input-list .monaco-list-row');
  let polls = 0;
  // The list can re-sort while it fills (recently opened first): the row is found and clicked in one go, again if it moved.
  await waitFor(
    async () => {
      // Quick open answers a query once: a file written a moment ago shows up only when asked again.
      if (++polls % 10 === 0) {
        await quickInputBox(page).fill('');
        await quickInputBox(page).fill(rel);
      }
      const items = await rows.evaluateAll((els) =>
        els.map((el) => ({
          name: el.querySelector('.label-name')?.textContent?.trim() ?? '',
          desc: el.querySelector('.label-description')?.textContent?.trim() ?? '',
          index: Number(el.getAttribute('data-index')),
        })),
      );
      const hit = items.find((i) => i.name === base && (dir === '.' || i.desc.replaceAll('\\', '/').endsWith(dir)));
      if (!hit) return null;
      return rows
        .and(page.locator(`[data-index="${hit.index}"]`))
        .click({ timeout: 2000 })
        .then(() => true)
        .catch(() => null);
    },
    { timeoutMs, message: `quick open entry for ${rel}` },
  );
  await moveMouseAway(page);
  await page.locator('.tabs-container .tab.active').filter({ hasText: base }).waitFor({ state: 'visible', timeout: timeoutMs });
  const editor = page.locator('.editor-group-container.active .monaco-editor').first();
  await editor.waitFor({ state: 'visible', timeout: timeoutMs });
  return editor;
}

/** Clicks an activity bar entry by its title (e.g. 'GRPO', 'Explorer'); returns the sidebar locator. */
export async function openViewContainer(page, title, { timeoutMs = 15000 } = {}) {
  // With a badge the label gains a suffix ("GRPO - 2 reward function errors").
  const label = page.locator(`a.action-label[aria-label="${title}"], a.action-label[aria-label^="${title} "]`);
  const item = page.locator('.part.activitybar li.action-item').filter({ has: label }).first();
  await item.waitFor({ state: 'visible', timeout: timeoutMs });
  const sidebar = page.locator('.part.sidebar');
  if ((await item.getAttribute('aria-expanded')) !== 'true' || !(await sidebar.isVisible())) {
    await item.click();
    await moveMouseAway(page);
  }
  await waitFor(async () => (await item.getAttribute('aria-expanded')) === 'true' && (await sidebar.isVisible()), {
    timeoutMs,
    message: `view container ${title} to open`,
  });
  return sidebar;
}

/** Waits for a tree/list row in the sidebar whose text contains `text`; returns its locator. */
export async function waitForTreeItem(page, text, { timeoutMs = 15000 } = {}) {
  const row = page.locator('.part.sidebar .monaco-list-row').filter({ hasText: text }).first();
  await row.waitFor({ state: 'visible', timeout: timeoutMs });
  return row;
}

/** Texts of the editor's `before`/`after` decorations (VS Code draws them as CSS generated content), spaces made plain. */
export function decorationTexts(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll('.monaco-editor .view-lines span[class*="ced-"]')]
      .flatMap((span) => [getComputedStyle(span, '::before').content, getComputedStyle(span, '::after').content])
      .filter((content) => content && content !== 'none' && content !== 'normal')
      .map((content) => JSON.parse(content).replace(/\s/g, ' ')),
  );
}

/** Waits for a notification toast containing `text`; returns its locator. */
export async function waitForNotification(page, text, { timeoutMs = 15000 } = {}) {
  const toast = page.locator('.notifications-toasts .notification-toast').filter({ hasText: text }).first();
  await toast.waitFor({ state: 'visible', timeout: timeoutMs });
  return toast;
}

export async function screenshot(page, name) {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${String(name).replace(/[^\w.-]+/g, '_')}.png`);
  await page.screenshot({ path: file });
  return file;
}

export function frames(page) {
  return page.frames();
}

/** Waits for the first frame (webviews are nested iframes) containing `selector`. */
export async function findFrame(page, selector, { timeoutMs = 15000 } = {}) {
  return waitFor(
    async () => {
      for (const frame of page.frames()) {
        if (frame.isDetached()) continue;
        try {
          if (await frame.$(selector)) return frame;
        } catch {}
      }
      return null;
    },
    { timeoutMs, message: `a frame with ${selector}` },
  );
}

/** Merges `obj` into <workspace>/.vscode/settings.json (watched by VS Code, so it applies live). */
export function setWorkspaceSettings(workspace, obj) {
  const file = path.join(workspace, '.vscode', 'settings.json');
  let current = {};
  try {
    current = JSON.parse(readFileSync(file, 'utf8'));
  } catch {}
  writeJson(file, { ...current, ...obj });
  return file;
}

/** The helper bundle given to scenarios as ctx (see the header comment). */
export function makeContext({ page, server, workspace, consoleErrors, name, assert }) {
  const prefix = name ? `${name}-` : '';
  return {
    page,
    server,
    workspace,
    repoRoot: REPO_ROOT,
    assert,
    consoleErrors,
    log: (...args) => console.log(`    [${name}]`, ...args),
    runCommand: (title, opts) => runCommand(page, title, opts),
    pickQuickItem: (text, opts) => pickQuickItem(page, text, opts),
    openFile: (relPath, opts) => openFile(page, relPath, opts),
    openQuickFix: (title, opts) => openQuickFix(page, title, opts),
    screenshot: (shot) => screenshot(page, prefix + shot),
    frames: () => frames(page),
    findFrame: (selector, opts) => findFrame(page, selector, opts),
    openViewContainer: (title, opts) => openViewContainer(page, title, opts),
    waitForTreeItem: (text, opts) => waitForTreeItem(page, text, opts),
    waitForNotification: (text, opts) => waitForNotification(page, text, opts),
    decorationTexts: () => decorationTexts(page),
    waitFor,
    setSettings: (obj) => setWorkspaceSettings(workspace, obj),
    writeFile: (rel, content) => {
      const file = path.join(workspace, rel);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, content);
      return file;
    },
  };
}
