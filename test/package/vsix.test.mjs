// The platform .vsix of this machine (linux-x64 here), built by scripts/package.mjs, unpacked into a
// folder whose path has a space and Japanese characters: its listing holds the bundles and only this
// platform's onnxruntime binaries, and its CLI samples from the tiny ONNX test model with the
// onnxruntime-node it carries (the folder is outside the repository and NODE_PATH is unset, so
// Node cannot find the repository's node_modules).
//
//   node scripts/test.mjs package      (or: node --test test/package/vsix.test.mjs)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { availableTargets, packageVsix } from '../../scripts/package.mjs';
import { ensurePythonEnv } from '../../scripts/setup-python.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const model = path.join(root, 'test', 'fixtures', 'generated', 'tiny-lm-onnx');
const target = `${process.platform}-${process.arch}`;
const [platform, arch] = [process.platform, process.arch];
const nativeLibrary = { linux: /^libonnxruntime\.so(\.\d+)*$/, darwin: /^libonnxruntime(\.\d+)*\.dylib$/, win32: /^onnxruntime\.dll$/ }[
  platform
];

// onnxruntime-node 1.30 has no darwin-x64 binaries, for one.
const skip = availableTargets().includes(target) ? false : `onnxruntime-node has no binaries for ${target}`;

let tmp;
let vsix;
let entries;

before(async () => {
  if (skip) return;
  if (!existsSync(path.join(model, 'onnx', 'model.onnx'))) {
    const python = await ensurePythonEnv();
    const built = spawnSync(python, ['test/python/onnx_fixtures.py'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
    assert.equal(built.status, 0, 'test/python/onnx_fixtures.py failed');
  }
  tmp = mkdtempSync(path.join(tmpdir(), 'grpo vsix テスト '));
  const { packages } = await packageVsix({ targets: [target], outDir: path.join(tmp, 'パッケージ 出力') });
  assert.equal(packages.length, 1);
  vsix = path.resolve(root, packages[0].file);
  // Python's zipfile reads the .vsix (a zip): `unzip` is not on every fresh machine.
  const listing = spawnSync('python3', ['-c', 'import sys, zipfile; print("\\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))', vsix], {
    encoding: 'utf8',
  });
  assert.equal(listing.status, 0, `listing the .vsix failed: ${listing.stderr}`);
  entries = listing.stdout.split('\n').filter(Boolean);
  const extracted = spawnSync('python3', ['-m', 'zipfile', '-e', vsix, tmp], { encoding: 'utf8' });
  assert.equal(extracted.status, 0, `extracting the .vsix failed: ${extracted.stderr}`);
});

after(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test('the extension page has its icon and every image its README shows', { skip }, () => {
  const manifest = JSON.parse(readFileSync(path.join(tmp, 'extension', 'package.json'), 'utf8'));
  assert.ok(manifest.icon && entries.includes(`extension/${manifest.icon}`), `the icon ${manifest.icon} is not in the .vsix`);
  const readme = entries.find((e) => /^extension\/readme\.md$/i.test(e));
  const images = [...readFileSync(path.join(tmp, readme), 'utf8').matchAll(/!\[[^\]]*\]\(([^)\s]+)\)/g)].map((m) => m[1]);
  assert.ok(images.length >= 2, 'the README shows screenshots');
  assert.ok(entries.includes('extension/examples/emoji-length/rewards.py'), 'the example GRPO: Open Example Workspace... copies');
  assert.deepEqual(
    entries.filter((e) => e.includes('/models/')),
    [],
    'the example ships without its generated models',
  );
  for (const image of images.filter((i) => !/^https?:/.test(i))) {
    assert.ok(entries.includes(`extension/${image}`), `the README's image ${image} is not in the .vsix (broken on the extension page)`);
  }
});

test(`the ${target} .vsix holds the bundles, the wasm files and onnxruntime-node for ${target} only`, { skip }, () => {
  for (const file of [
    'extension/package.json',
    'extension/dist/extension.js',
    'extension/dist/cli.js',
    'extension/dist/sampleWorker.js',
    'extension/dist/rewardModelWorker.js',
    'extension/dist/web-tree-sitter.wasm',
    'extension/dist/tree-sitter-python.wasm',
    'extension/dist/node_modules/onnxruntime-node/package.json',
    'extension/dist/node_modules/onnxruntime-node/dist/index.js',
    'extension/dist/node_modules/onnxruntime-common/package.json',
    'extension/dist/node_modules/onnxruntime-common/dist/cjs/index.js',
  ]) {
    assert.ok(entries.includes(file), `${file} is missing from the .vsix`);
  }
  // Every script the extension runs from python/ (src/shared/pythonScripts.ts) ships.
  const scripts = [...readFileSync(path.join(root, 'src', 'shared', 'pythonScripts.ts'), 'utf8').matchAll(/'(grpo_studio_\w+\.py)'/g)].map(
    (m) => m[1],
  );
  assert.ok(scripts.length >= 5, 'the script table was read');
  for (const script of scripts) assert.ok(entries.includes(`extension/python/${script}`), `python/${script} is missing from the .vsix`);
  const natives = entries.filter((e) => e.includes('/bin/napi-v'));
  const own = new RegExp(`^extension/dist/node_modules/onnxruntime-node/bin/napi-v\\d+/${platform}/${arch}/([^/]+)$`);
  const foreign = natives.filter((e) => !own.test(e));
  assert.deepEqual(foreign, [], 'binaries of other platforms leaked into the .vsix');
  const names = natives.map((e) => own.exec(e)[1]);
  assert.ok(names.includes('onnxruntime_binding.node'), `no ${platform}/${arch}/onnxruntime_binding.node in ${natives.join(', ')}`);
  assert.ok(
    names.some((n) => nativeLibrary.test(n)),
    `no onnxruntime library (${nativeLibrary}) in ${natives.join(', ')}`,
  );
  for (const other of ['linux', 'darwin', 'win32'].filter((p) => p !== platform)) {
    assert.ok(!entries.some((e) => e.includes(`/${other}/`)), `${other} files in the .vsix`);
  }
  assert.ok(!entries.some((e) => /\.(node|so(\.\d+)*|dylib|dll)$/.test(e) && !own.test(e)), 'a native file outside onnxruntime-node/bin');
  // --no-dependencies: nothing of the repository's node_modules; bundled packages live in dist/*.js only.
  assert.ok(!entries.some((e) => e.startsWith('extension/node_modules/')), 'node_modules at the extension root');
  const shippedPackages = new Set(entries.filter((e) => e.startsWith('extension/dist/node_modules/')).map((e) => e.split('/')[3]));
  assert.deepEqual([...shippedPackages].sort(), ['onnxruntime-common', 'onnxruntime-node']);
  assert.ok(
    !entries.some((e) => e.endsWith('.map') || (e.endsWith('.ts') && !e.endsWith('.d.ts'))),
    'source maps or TypeScript sources in the .vsix',
  );
  assert.equal(existsSync(path.join(root, 'dist', 'node_modules')), false, 'scripts/package.mjs left dist/node_modules behind');
});

test('the unpacked CLI samples with the onnxruntime-node of the .vsix', { skip }, () => {
  const dist = path.join(tmp, 'extension', 'dist');
  const env = { ...process.env };
  delete env.NODE_PATH;
  const resolved = spawnSync(process.execPath, ['-p', `require.resolve('onnxruntime-node', { paths: [${JSON.stringify(dist)}] })`], {
    cwd: tmp,
    env,
    encoding: 'utf8',
  });
  assert.equal(resolved.status, 0, resolved.stderr);
  assert.equal(resolved.stdout.trim(), path.join(dist, 'node_modules', 'onnxruntime-node', 'dist', 'index.js'));

  const prompts = path.join(tmp, 'prompts.jsonl');
  writeFileSync(prompts, `${JSON.stringify({ prompt: 'こんにちは、世界' })}\n`);
  const out = path.join(tmp, 'out.jsonl');
  const cli = spawnSync(
    process.execPath,
    [
      path.join(dist, 'cli.js'),
      'sample',
      '--model',
      model,
      '--prompts',
      prompts,
      '--num-generations',
      '2',
      '--max-new-tokens',
      '8',
      '--temperature',
      '0',
      '--out',
      out,
    ],
    { cwd: tmp, env, encoding: 'utf8', timeout: 120_000 },
  );
  assert.equal(cli.status, 0, `cli.js sample exited with ${cli.status ?? cli.signal}\n${cli.stdout}\n${cli.stderr}`);
  const lines = readFileSync(out, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
  assert.equal(lines.length, 2);
  for (const line of lines) {
    assert.equal(line.prompt, 'こんにちは、世界');
    assert.equal(typeof line.completion, 'string');
  }
  // Temperature 0 is greedy: both generations are the same.
  assert.equal(lines[0].completion, lines[1].completion);
});
