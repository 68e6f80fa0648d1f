// E2E entry: packages the extension for this platform (out/vsix/grpo-studio-<version>-<platform>.vsix,
// with its onnxruntime binaries), starts ONE code-server
// with it installed, and runs every test/e2e/*.e2e.mjs scenario in its own browser context against
// a fresh temp workspace. Screenshots and code-server.log go to test-results/e2e/.
//
//   node test/e2e/run.mjs [name-filter...] [--vsix path | --no-package | --stub]
//     name-filter   run only scenarios whose file name contains one of these strings
//     --vsix P      use an existing .vsix instead of packaging (also env GRPO_E2E_VSIX)
//     --no-package  use the existing out/vsix package of this platform as is
//     --stub        use a throwaway stub extension (harness self-test)
//   env: GRPO_E2E_HEADED=1 (visible browser), GRPO_E2E_KEEP=1 (keep temp dirs)
//
// `main(args = [])` resolves to the exit code (0 = all passed) and is what scripts/test.mjs calls;
// args are the same as on the command line (nothing: all scenarios, packaging first).

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { hostVsixPath, packageHostVsix } from '../../scripts/package.mjs';
import { ensureChromium, ensureCodeServer, REPO_ROOT } from '../../scripts/setup-code-server.mjs';
import { buildLanguagePackVsix, registerLanguagePack } from './languagePack.mjs';
import {
  launchBrowser,
  makeContext,
  makeWorkspace,
  onInterrupt,
  openWorkspace,
  removeWorkspace,
  RESULTS_DIR,
  screenshot,
  startCodeServer,
} from './harness.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;

function parseArgs(args) {
  const o = { filters: [], vsix: process.env.GRPO_E2E_VSIX || null, noPackage: false, stub: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--vsix') o.vsix = path.resolve(args[++i]);
    else if (a === '--no-package') o.noPackage = true;
    else if (a === '--stub') o.stub = true;
    else if (a.startsWith('--')) throw new Error(`unknown option ${a}`);
    else o.filters.push(a);
  }
  return o;
}

export async function main(args = []) {
  const t0 = Date.now();
  const opts = parseArgs(args);
  const files = readdirSync(HERE)
    .filter((f) => f.endsWith('.e2e.mjs'))
    .filter((f) => opts.filters.length === 0 || opts.filters.some((flt) => f.includes(flt)))
    .sort();
  if (files.length === 0) {
    console.error(`e2e: no scenarios match ${opts.filters.join(' ')}`);
    return 1;
  }
  mkdirSync(RESULTS_DIR, { recursive: true });
  for (const f of readdirSync(RESULTS_DIR)) if (f.endsWith('.png') || /^code-server.*\.log$/.test(f)) rmSync(path.join(RESULTS_DIR, f));

  let server;
  let browser;
  // Scenarios with `options.locale` get a code-server of their own, started with that locale and a
  // language pack for it (one per locale, shared by its scenarios).
  const localized = new Map();
  const shutdown = async () => {
    await browser?.close().catch(() => {});
    await server?.stop().catch(() => {});
    for (const other of localized.values()) await (await other.catch(() => undefined))?.stop().catch(() => {});
  };
  const offInterrupt = onInterrupt(shutdown);
  const results = [];
  try {
    // Packaging and tool setup are independent; code-server's first install takes ~40 s.
    // allSettled: a failed packaging must not leave the code-server install half done.
    const settled = await Promise.allSettled([
      ensureCodeServer(),
      opts.stub
        ? import('./stub-vsix.mjs').then((m) => m.buildStubVsix())
        : (opts.vsix ?? (opts.noPackage ? hostVsixPath() : packageHostVsix())),
      ensureChromium(),
    ]);
    const failedStep = settled.find((s) => s.status === 'rejected');
    if (failedStep) throw failedStep.reason;
    const [bin, vsix] = settled.map((s) => s.value);
    if (!existsSync(vsix)) throw new Error(`${vsix} not found`);
    console.log(`e2e: setup + package ${secs(Date.now() - t0)} (${path.relative(REPO_ROOT, vsix) || vsix})`);

    let t = Date.now();
    server = await startCodeServer({ bin, vsix });
    if (opts.stub && !process.env.GRPO_E2E_KEEP) rmSync(path.dirname(vsix), { recursive: true, force: true });
    browser = await launchBrowser();
    console.log(
      `e2e: code-server ${server.url} (pid ${server.pid}) up in ${secs(Date.now() - t)}; installed: ${server.extensions.join(', ')}`,
    );

    for (const file of files) {
      const name = file.replace(/\.e2e\.mjs$/, '');
      const started = Date.now();
      let page;
      let context;
      let workspace;
      try {
        const mod = await import(pathToFileURL(path.join(HERE, file)).href);
        if (typeof mod.run !== 'function') throw new Error(`${file} exports no run(ctx)`);
        const o = mod.options ?? {};
        if (o.locale && !localized.has(o.locale)) {
          localized.set(
            o.locale,
            buildLanguagePackVsix(o.locale).then((pack) =>
              startCodeServer({
                bin,
                vsix: [vsix, pack],
                locale: o.locale,
                logFile: path.join(RESULTS_DIR, `code-server-${o.locale}.log`),
                beforeStart: (dirs) => registerLanguagePack(dirs, o.locale),
              }),
            ),
          );
        }
        const own = o.locale ? await localized.get(o.locale) : server;
        workspace = makeWorkspace({ from: o.workspace, files: o.files, name: o.workspaceName });
        own.setSettings(o.settings ?? {});
        const opened = await openWorkspace(browser, own, workspace);
        ({ page, context } = opened);
        const ctx = makeContext({ page, server: own, workspace, consoleErrors: opened.consoleErrors, name, assert });
        const timeoutMs = o.timeoutMs ?? 120000;
        let timer;
        await Promise.race([
          mod.run(ctx),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`scenario timed out after ${secs(timeoutMs)}`)), timeoutMs);
          }),
        ]).finally(() => clearTimeout(timer));
        await screenshot(page, `${name}-end`).catch(() => {});
        results.push({ name, ok: true, ms: Date.now() - started });
        console.log(`  PASS ${name} (${secs(Date.now() - started)})`);
      } catch (err) {
        let shot = '';
        if (page) shot = await screenshot(page, `${name}-FAILED`).catch(() => '');
        results.push({ name, ok: false, ms: Date.now() - started, err });
        console.log(`  FAIL ${name} (${secs(Date.now() - started)})`);
        console.log(String(err?.stack ?? err).replace(/^/gm, '      '));
        if (shot) console.log(`      screenshot: ${path.relative(REPO_ROOT, shot)}`);
      } finally {
        await context?.close().catch(() => {});
        if (workspace) removeWorkspace(workspace);
      }
      if (server.exited()) {
        console.log(`e2e: code-server died (${JSON.stringify(server.exited())}); see ${path.relative(REPO_ROOT, server.logFile)}`);
        break;
      }
    }
  } catch (err) {
    console.error(`e2e: setup failed: ${err?.stack ?? err}`);
    results.push({ name: 'setup', ok: false, err });
  } finally {
    await shutdown();
    offInterrupt();
  }
  const failed = results.filter((r) => !r.ok);
  const notRun = files.length - results.filter((r) => r.name !== 'setup').length;
  console.log(
    `e2e: ${results.length - failed.length} passed, ${failed.length} failed${notRun ? `, ${notRun} not run` : ''} in ${secs(Date.now() - t0)}; screenshots in ${path.relative(REPO_ROOT, RESULTS_DIR)}/`,
  );
  return failed.length || notRun ? 1 : 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
