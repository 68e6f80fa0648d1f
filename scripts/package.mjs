// `npm run package`: one platform-specific .vsix per target, each carrying onnxruntime-node with
// only that platform's native binaries.
//
//   node scripts/package.mjs                          every target onnxruntime-node ships binaries for
//   node scripts/package.mjs --target linux-x64 ...   the targets named
//   node scripts/package.mjs --out DIR                output folder (default out/vsix)
//
//   import { packageVsix } from './package.mjs';
//   const { packages, skipped } = await packageVsix({ targets: ['linux-x64'] });
//
// esbuild keeps onnxruntime-node external (it loads its native binding from a path relative to its
// own files), so the bundles in dist/ require('onnxruntime-node') at run time. For each target this
// stages dist/node_modules/onnxruntime-node (package.json, dist/*.js, bin/napi-v*/<platform>/<arch>/)
// and dist/node_modules/onnxruntime-common (package.json, dist/cjs) — Node resolves them from
// dist/*.js — runs `vsce package --target`, and removes the staging folder. Everything else the
// extension uses is bundled into dist/*.js; vsce runs with --no-dependencies and .vscodeignore
// lets in only dist/node_modules/** of the node_modules folders.
//
// Writes out/vsix/grpo-studio-<version>-<target>.vsix and out/vsix/vsix-sizes.json, and prints a size table.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The VS Code targets GRPO Studio is packaged for (those onnxruntime-node has no binaries for are skipped). */
export const ALL_TARGETS = ['linux-x64', 'linux-arm64', 'darwin-x64', 'darwin-arm64', 'win32-x64', 'win32-arm64'];

const stagingDir = path.join(root, 'dist', 'node_modules');

function run(command, args) {
  console.log(`$ ${[command, ...args].map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ')}`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`${path.basename(command)} ${args.join(' ')} exited with ${result.status ?? result.signal}`);
}

/** The folder of package `name` as Node finds it from `from` (a package folder; node_modules/ up the tree). */
function packageDir(name, from = root) {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`${name} is not installed (run npm install)`);
  }
}

/** Copies the files of `from` (not recursing) that `keep` accepts into `to`. */
function copyFiles(from, to, keep = () => true) {
  mkdirSync(to, { recursive: true });
  const copied = [];
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    if (!entry.isFile() || !keep(entry.name)) continue;
    copyFileSync(path.join(from, entry.name), path.join(to, entry.name));
    copied.push(entry.name);
  }
  return copied;
}

/** The bin/napi-v*\/<platform>/<arch> folders of onnxruntime-node (relative to the package) for a target. */
function nativeDirs(ortDir, target) {
  const [platform, arch] = target.split('-');
  const bin = path.join(ortDir, 'bin');
  if (!existsSync(bin)) return [];
  return readdirSync(bin)
    .filter((napi) => /^napi-v\d+$/.test(napi))
    .map((napi) => path.join('bin', napi, platform, arch))
    .filter((dir) => existsSync(path.join(ortDir, dir, 'onnxruntime_binding.node')));
}

/** The targets onnxruntime-node (as installed) carries native binaries for. */
/** The target of this machine, e.g. `linux-x64`: the package tests and the demo install. */
export function hostTarget() {
  return `${process.platform}-${process.arch}`;
}

/** Where `packageHostVsix` writes this machine's .vsix. */
export function hostVsixPath() {
  const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  return path.join(root, 'out', 'vsix', `grpo-studio-${version}-${hostTarget()}.vsix`);
}

/** Builds the .vsix of this machine's platform and returns its absolute path. */
export async function packageHostVsix() {
  await packageVsix({ targets: [hostTarget()] });
  return hostVsixPath();
}

export function availableTargets() {
  const ortDir = packageDir('onnxruntime-node');
  return ALL_TARGETS.filter((target) => nativeDirs(ortDir, target).length > 0);
}

/**
 * Fills dist/node_modules with what `require('onnxruntime-node')` needs at run time on `target`:
 * onnxruntime-node's package.json, its compiled JS (dist/*.js, what `main` loads) and the target's
 * native folder, and onnxruntime-common's package.json and CommonJS build (dist/cjs, what its
 * `exports.require` points at). Its install-time dependencies (adm-zip, global-agent) are not needed.
 */
function stage(target) {
  rmSync(stagingDir, { recursive: true, force: true });
  const ortDir = packageDir('onnxruntime-node');
  const ortPkg = JSON.parse(readFileSync(path.join(ortDir, 'package.json'), 'utf8'));
  if (path.posix.normalize(ortPkg.main) !== 'dist/index.js') {
    throw new Error(`onnxruntime-node ${ortPkg.version}: main is ${ortPkg.main}, expected dist/index.js; update scripts/package.mjs`);
  }
  const ortOut = path.join(stagingDir, 'onnxruntime-node');
  copyFiles(ortDir, ortOut, (name) => name === 'package.json');
  copyFiles(path.join(ortDir, 'dist'), path.join(ortOut, 'dist'), (name) => name.endsWith('.js'));
  const natives = [];
  for (const dir of nativeDirs(ortDir, target)) {
    natives.push(
      ...copyFiles(path.join(ortDir, dir), path.join(ortOut, dir)).map((f) => path.posix.join(dir.split(path.sep).join('/'), f)),
    );
  }

  const commonDir = packageDir('onnxruntime-common', ortDir);
  const commonPkg = JSON.parse(readFileSync(path.join(commonDir, 'package.json'), 'utf8'));
  if (commonPkg.version !== ortPkg.dependencies?.['onnxruntime-common']) {
    throw new Error(
      `onnxruntime-common ${commonPkg.version} is installed, onnxruntime-node ${ortPkg.version} wants ${ortPkg.dependencies?.['onnxruntime-common']}`,
    );
  }
  const commonOut = path.join(stagingDir, 'onnxruntime-common');
  copyFiles(commonDir, commonOut, (name) => name === 'package.json');
  // dist/cjs/package.json ({"type": "commonjs"}) matters: the package's own package.json says "type": "module".
  copyFiles(
    path.join(commonDir, 'dist', 'cjs'),
    path.join(commonOut, 'dist', 'cjs'),
    (name) => name.endsWith('.js') || name === 'package.json',
  );
  return { ortVersion: ortPkg.version, natives };
}

/** sha256 of every file under dist/ but the staging folder: to notice a build that ran while vsce read dist/. */
function distSnapshot() {
  const hashes = {};
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (file !== stagingDir) walk(file);
      } else if (entry.isFile()) {
        hashes[path.relative(root, file)] = createHash('sha256').update(readFileSync(file)).digest('hex');
      }
    }
  };
  walk(path.join(root, 'dist'));
  return JSON.stringify(hashes);
}

/** Whether dist/*.js are production bundles (esbuild.mjs writes development ones with a source map). */
function productionBundles() {
  return ['extension.js', 'cli.js', 'sampleWorker.js', 'rewardModelWorker.js'].every(
    (name) => !readFileSync(path.join(root, 'dist', name), 'utf8').includes('//# sourceMappingURL='),
  );
}

/** A path as the user would type it: relative to the repository when inside it. */
const shown = (file) => {
  const relative = path.relative(root, file);
  return relative.startsWith('..') || path.isAbsolute(relative) ? file : relative.split(path.sep).join('/');
};

const mb = (bytes) => Math.round((bytes / 1024 / 1024) * 10) / 10;

/**
 * Builds production bundles, then one .vsix per target into `outDir`.
 * Returns { packages: [{ target, file, bytes, mb }], skipped: [{ target, reason }] }.
 */
export async function packageVsix({ targets = ALL_TARGETS, outDir = path.join(root, 'out', 'vsix'), build = true } = {}) {
  for (const target of targets) {
    if (!ALL_TARGETS.includes(target)) throw new Error(`unknown target '${target}' (expected ${ALL_TARGETS.join(', ')})`);
  }
  const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  const available = availableTargets();
  const skipped = targets
    .filter((t) => !available.includes(t))
    .map((target) => ({ target, reason: 'onnxruntime-node has no binaries for it' }));
  for (const { target, reason } of skipped) console.warn(`skipping ${target}: ${reason}`);
  const wanted = targets.filter((t) => available.includes(t));
  if (wanted.length === 0) throw new Error(`nothing to package: onnxruntime-node has binaries for ${available.join(', ')}`);

  // Before building: a staging folder left by an interrupted run must not end up in a package.
  rmSync(stagingDir, { recursive: true, force: true });
  const productionBuild = () => {
    if (build) run(process.execPath, ['esbuild.mjs', '--production']);
    return distSnapshot();
  };
  let built = productionBuild();
  mkdirSync(outDir, { recursive: true });
  const vsce = path.join(packageDir('@vscode/vsce'), 'vsce'); // what `npx vsce` runs
  const packages = [];
  try {
    for (const target of wanted) {
      const file = path.join(outDir, `grpo-studio-${version}-${target}.vsix`);
      for (let attempt = 1; ; attempt++) {
        const { natives } = stage(target);
        console.log(`\n=== ${target}: onnxruntime-node ${natives.join(', ')} ===`);
        rmSync(file, { force: true });
        run(process.execPath, [
          vsce,
          'package',
          '--target',
          target,
          '--no-dependencies',
          '--allow-missing-repository',
          '--no-rewrite-relative-links',
          '-o',
          file,
        ]);
        // Another `node esbuild.mjs` (a test run, a watch) in this working tree may have rewritten dist/
        // meanwhile: then the package may hold development bundles. Build again and repackage.
        if (distSnapshot() === built && (!build || productionBundles())) break;
        rmSync(file, { force: true });
        if (attempt === 3) throw new Error('dist/ kept changing while packaging (is `npm run watch` running?)');
        console.warn(`dist/ changed while ${target} was packaged (another build ran): building again`);
        built = productionBuild();
      }
      const bytes = statSync(file).size;
      packages.push({ target, file: shown(file), bytes, mb: mb(bytes) });
    }
  } finally {
    rmSync(stagingDir, { recursive: true, force: true });
  }

  const report = { version, packages, skipped };
  writeFileSync(path.join(outDir, 'vsix-sizes.json'), `${JSON.stringify(report, null, 2)}\n`);
  console.log('\n.vsix                                          MB');
  for (const p of packages) console.log(`${path.basename(p.file).padEnd(44)} ${p.mb.toFixed(1).padStart(6)}`);
  for (const s of skipped) console.log(`${s.target.padEnd(44)} skipped (${s.reason})`);
  console.log(`(also in ${shown(path.join(outDir, 'vsix-sizes.json'))})`);
  return report;
}

function parseCli(argv) {
  const targets = [];
  let outDir;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--target' || arg === '-t') {
      const value = argv[++i];
      if (!value) throw new Error(`${arg} needs a value`);
      targets.push(...value.split(',').filter(Boolean));
    } else if (arg.startsWith('--target=')) {
      targets.push(...arg.slice('--target='.length).split(',').filter(Boolean));
    } else if (arg === '--out') {
      outDir = argv[++i];
      if (!outDir) throw new Error('--out needs a value');
    } else if (arg === '-h' || arg === '--help') {
      console.log(`Usage: node scripts/package.mjs [--target ${ALL_TARGETS.join('|')}] ... [--out DIR]`);
      process.exit(0);
    } else {
      throw new Error(`unknown argument '${arg}'`);
    }
  }
  return { targets: targets.length ? targets : ALL_TARGETS, ...(outDir ? { outDir: path.resolve(outDir) } : {}) };
}

if (process.argv[1] && pathToFileURL(path.resolve(process.argv[1])).href === import.meta.url) {
  try {
    await packageVsix(parseCli(process.argv.slice(2)));
  } catch (error) {
    console.error(`package: ${error instanceof Error ? error.message : error}`);
    process.exitCode = 1;
  }
}
