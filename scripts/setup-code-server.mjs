// Installs what the end-to-end tests and `npm run demo` need, on demand and idempotently:
//   - Debian packages libkrb5-dev (kerberos native module), ripgrep, chromium (apt, root only);
//   - code-server (VS Code in the browser, from the npm registry) into .tools/code-server/.
// See shared notes "code-server-e2e.md" for why each step is needed on machines without GitHub access.
//
//   import { ensureCodeServer, ensureChromium } from './scripts/setup-code-server.mjs';
//   const bin = await ensureCodeServer();   // absolute path of the code-server launcher
//   const chrome = await ensureChromium();   // '/usr/bin/chromium'
//
// Run directly (`node scripts/setup-code-server.mjs`) to install and print the path.

import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CODE_SERVER_VERSION = '4.100.3';
// @vscode/ripgrep version that code-server 4.100.3 depends on, and the rg release it downloads.
const VSCODE_RIPGREP_VERSION = '1.15.11';
const RIPGREP_RELEASE = 'v13.0.0-10';
// Fonts for screenshots: Japanese text (fonts-ipafont-gothic, 3.5 MB) and emoji
// (fonts-noto-color-emoji) instead of empty boxes.
const FONT_PACKAGES = ['fonts-ipafont-gothic', 'fonts-noto-color-emoji'];
const APT_PACKAGES = ['libkrb5-dev', 'ripgrep', 'chromium', ...FONT_PACKAGES];
export const CHROMIUM_PATH = '/usr/bin/chromium';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const TOOLS_DIR = path.join(REPO_ROOT, '.tools');
export const CODE_SERVER_DIR = path.join(TOOLS_DIR, 'code-server');
const MARKER = path.join(CODE_SERVER_DIR, `.installed-${CODE_SERVER_VERSION}`);
const BIN = path.join(CODE_SERVER_DIR, 'node_modules', '.bin', 'code-server');

const log = (msg) => console.error(`[setup] ${msg}`);

/** Runs a command without a shell; resolves with {code, stdout, stderr}. `inherit` streams output. */
export function exec(cmd, args, { cwd, env, inherit = false, input } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd,
      env: env ?? process.env,
      stdio: [input === undefined ? 'ignore' : 'pipe', inherit ? 'inherit' : 'pipe', inherit ? 'inherit' : 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d) => (stdout += d));
    child.stderr?.on('data', (d) => (stderr += d));
    if (input !== undefined) child.stdin.end(input);
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
  });
}

async function dpkgInstalled(pkg) {
  try {
    const r = await exec('dpkg-query', ['-W', '-f=${Status}', pkg]);
    return r.code === 0 && r.stdout.includes('install ok installed');
  } catch {
    return false; // no dpkg at all
  }
}

function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    try {
      accessSync(path.join(dir, name), constants.X_OK);
      return true;
    } catch {}
  }
  return false;
}

let aptTurn = Promise.resolve();

/**
 * Installs the missing Debian packages (root only; otherwise prints what to install). Calls take
 * turns: code-server's and Chromium's setups run side by side, and a second apt-get fails on the
 * first one's lock.
 */
export function ensureAptPackages(packages = APT_PACKAGES) {
  const turn = aptTurn.then(() => installMissingAptPackages(packages));
  aptTurn = turn.catch(() => {});
  return turn;
}

async function installMissingAptPackages(packages) {
  const wanted = [...packages];
  // node-gyp builds code-server's native modules; a bare machine may lack a compiler.
  if (!onPath('g++') || !onPath('make')) wanted.push('g++', 'make');
  if (!onPath('python3')) wanted.push('python3');
  const missing = [];
  for (const pkg of wanted) if (!(await dpkgInstalled(pkg))) missing.push(pkg);
  // Tools already on PATH (e.g. python3 from pyenv) count as present.
  const byBinary = { ripgrep: 'rg', chromium: 'chromium', 'g++': 'g++', make: 'make', python3: 'python3' };
  const reallyMissing = missing.filter((p) => !(byBinary[p] && onPath(byBinary[p])));
  if (reallyMissing.length === 0) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !onPath('apt-get')) {
    log(`missing system packages: ${reallyMissing.join(' ')}`);
    log(`install them with: sudo apt-get update && sudo apt-get install -y ${reallyMissing.join(' ')}`);
    return;
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  log(`apt-get install ${reallyMissing.join(' ')}`);
  let r = await exec('apt-get', ['update'], { env, inherit: true });
  if (r.code !== 0) throw new Error(`apt-get update failed (exit ${r.code})`);
  r = await exec('apt-get', ['install', '-y', '-o', 'Dpkg::Options::=--force-confold', ...reallyMissing], {
    env,
    inherit: true,
  });
  if (r.code !== 0) throw new Error(`apt-get install ${reallyMissing.join(' ')} failed (exit ${r.code})`);
}

function ripgrepTarget() {
  switch (process.arch) {
    case 'x64':
      return 'x86_64-unknown-linux-musl';
    case 'arm64':
      return 'aarch64-unknown-linux-gnu';
    default:
      return null;
  }
}

/** Places a tar.gz of the system rg where @vscode/ripgrep's postinstall looks before downloading. */
async function seedRipgrepCache() {
  const target = ripgrepTarget();
  const rg = ['/usr/bin/rg', '/usr/local/bin/rg'].find((p) => existsSync(p));
  if (!target || !rg) {
    log('no system rg (or unknown arch): @vscode/ripgrep will try to download and may fail');
    return;
  }
  const cacheDir = path.join(os.tmpdir(), `vscode-ripgrep-cache-${VSCODE_RIPGREP_VERSION}`);
  const archive = path.join(cacheDir, `ripgrep-${RIPGREP_RELEASE}-${target}.tar.gz`);
  if (existsSync(archive)) return;
  mkdirSync(cacheDir, { recursive: true });
  const tmp = `${archive}.${process.pid}.tmp`;
  const r = await exec('tar', ['-czhf', tmp, '-C', path.dirname(rg), path.basename(rg)]);
  if (r.code !== 0) throw new Error(`tar failed: ${r.stderr}`);
  renameSync(tmp, archive);
}

function installedVersion() {
  try {
    const pkg = JSON.parse(readFileSync(path.join(CODE_SERVER_DIR, 'node_modules', 'code-server', 'package.json'), 'utf8'));
    return pkg.version;
  } catch {
    return null;
  }
}

export function codeServerInstalled() {
  return existsSync(MARKER) && existsSync(BIN) && installedVersion() === CODE_SERVER_VERSION;
}

/** Installs code-server (and its system prerequisites) when needed; returns the launcher's absolute path. */
export async function ensureCodeServer() {
  if (codeServerInstalled()) return BIN;
  const started = Date.now();
  await ensureAptPackages();
  await seedRipgrepCache();
  mkdirSync(CODE_SERVER_DIR, { recursive: true });
  rmSync(MARKER, { force: true });
  const pkgJson = path.join(CODE_SERVER_DIR, 'package.json');
  if (!existsSync(pkgJson)) {
    writeFileSync(
      pkgJson,
      JSON.stringify(
        { name: 'grpo-studio-tools-code-server', private: true, description: 'code-server for e2e tests and the demo' },
        null,
        2,
      ) + '\n',
    );
  }
  log(`installing code-server@${CODE_SERVER_VERSION} into ${CODE_SERVER_DIR} (about a minute)`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const env = { ...process.env, npm_config_yes: 'true', npm_config_fund: 'false', npm_config_audit: 'false' };
  const r = await exec(
    npm,
    [
      'install',
      `code-server@${CODE_SERVER_VERSION}`,
      '--unsafe-perm',
      '--foreground-scripts',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
    ],
    { cwd: CODE_SERVER_DIR, env, inherit: true },
  );
  if (r.code !== 0) throw new Error(`npm install code-server@${CODE_SERVER_VERSION} failed (exit ${r.code})`);
  if (!existsSync(BIN) || installedVersion() !== CODE_SERVER_VERSION) {
    throw new Error(`code-server install finished but ${BIN} is missing`);
  }
  // A quick check that it starts at all (native modules built, Node version accepted).
  const v = await exec(BIN, ['--version']);
  if (v.code !== 0 || !v.stdout.includes(CODE_SERVER_VERSION)) {
    throw new Error(`code-server --version failed (exit ${v.code}): ${v.stdout}${v.stderr}`);
  }
  writeFileSync(MARKER, new Date().toISOString() + '\n');
  log(`code-server ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return BIN;
}

/** Returns Debian's Chromium, installing it with apt when missing (root). Never downloads a browser. */
export async function ensureChromium() {
  const missing = [];
  for (const pkg of ['chromium', ...FONT_PACKAGES]) if (!(await dpkgInstalled(pkg))) missing.push(pkg);
  if (missing.length && !(missing.length === 1 && missing[0] === 'chromium' && existsSync(CHROMIUM_PATH))) {
    await ensureAptPackages(missing);
  }
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`${CHROMIUM_PATH} not found: apt-get install -y chromium`);
  }
  return CHROMIUM_PATH;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    await ensureAptPackages();
    const bin = await ensureCodeServer();
    await ensureChromium();
    console.log(bin);
  } catch (err) {
    console.error(err?.stack ?? err);
    process.exitCode = 1;
  }
}
