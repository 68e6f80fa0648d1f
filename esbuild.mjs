import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { webviewBuild } from './webview/build.mjs';

const require = createRequire(import.meta.url);
const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

// web-tree-sitter loads its runtime and the Python grammar as .wasm files at run time, sql.js
// its SQLite build (for Trackio projects); all are shipped next to the bundles.
function copyWasm() {
  mkdirSync('dist', { recursive: true });
  copyFileSync(require.resolve('web-tree-sitter/web-tree-sitter.wasm'), 'dist/web-tree-sitter.wasm');
  copyFileSync(require.resolve('tree-sitter-python/tree-sitter-python.wasm'), 'dist/tree-sitter-python.wasm');
  copyFileSync(require.resolve('sql.js/dist/sql-wasm.wasm'), 'dist/sql-wasm.wasm');
}

// web-tree-sitter is an ES module that reads import.meta.url; the CommonJS bundles supply it.
const importMetaShim = "const importMetaUrl = require('node:url').pathToFileURL(__filename).href;";

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: !production,
  minify: production,
  logLevel: 'info',
  define: { 'import.meta.url': 'importMetaUrl' },
  banner: { js: importMetaShim },
};

// onnxruntime-node loads its native binding from a path relative to its own files: it stays a
// package (node_modules here; dist/node_modules in a platform .vsix, see scripts/package.mjs).
// sql.js's wasm is looked up in its package only when run from source (dist has its copy).
const external = ['onnxruntime-node', 'sql.js/dist/sql-wasm.wasm'];

const builds = [
  { ...common, entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js', external: ['vscode', ...external] },
  { ...common, entryPoints: ['src/sampling/core/sampleWorker.ts'], outfile: 'dist/sampleWorker.js', external },
  { ...common, entryPoints: ['src/scoring/rewardModelWorker.ts'], outfile: 'dist/rewardModelWorker.js', external },
  webviewBuild({ production }),
  {
    ...common,
    entryPoints: ['src/cli/main.ts'],
    outfile: 'dist/cli.js',
    external,
    banner: { js: `#!/usr/bin/env node\n${importMetaShim}` },
  },
];

/**
 * A JSON Schema of TRL run configs for the YAML extension (redhat.vscode-yaml), made from the
 * fields schemas/trl-grpo.json took from the installed TRL's dataclasses.
 */
function writeRunConfigSchema() {
  const { trl, fields } = JSON.parse(readFileSync('schemas/trl-grpo.json', 'utf8'));
  const jsonType = (type) => {
    const kinds = type.split('|').map((t) => t.trim());
    const types = new Set(
      kinds.flatMap((k) =>
        k === 'bool'
          ? ['boolean']
          : k === 'int'
            ? ['integer']
            : k === 'float'
              ? ['number']
              : k === 'str'
                ? ['string']
                : k === 'None'
                  ? ['null']
                  : k.startsWith('list')
                    ? ['array']
                    : k.startsWith('dict')
                      ? ['object']
                      : [],
      ),
    );
    return types.size && types.size === kinds.length ? [...types] : undefined;
  };
  const properties = Object.fromEntries(
    Object.entries(fields).map(([name, field]) => [
      name,
      {
        description: `${field.help}\n\n${field.type} (${field.group}, TRL ${trl})`,
        ...(jsonType(field.type) ? { type: jsonType(field.type) } : {}),
        ...(field.default !== null ? { default: field.default } : {}),
      },
    ]),
  );
  for (const own of ['column_mapping', 'chat_format', 'system_prompt'])
    properties[own] = { description: 'GRPO Studio runner field (plain trl grpo rejects it)' };
  writeFileSync(
    'dist/trl-grpo.schema.json',
    JSON.stringify(
      { $schema: 'http://json-schema.org/draft-07/schema#', title: `TRL ${trl} GRPO run config`, type: 'object', properties },
      null,
      1,
    ),
  );
}

copyWasm();
writeRunConfigSchema();
if (watch) {
  for (const options of builds) await (await esbuild.context(options)).watch();
} else {
  await Promise.all(builds.map((options) => esbuild.build(options)));
}
