// Lint rules, with the layering of README's "How it is built" written down so that CI keeps it:
// shared → discovery → scoring → previews / sampling / training → CLI and extension. A capability's
// `core` and the shared floor never import `vscode`, an `editor` folder or `webview/`; capability
// cores do not import each other; the pages import only the shared floor and the protocols.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const noVscode = {
  name: 'vscode',
  message: 'core code has no `vscode` import: it is shared with the CLI (put the editor part in an editor/ folder)',
};
const rule = (regex, message) => ({ regex, message });
const editorCode = rule(
  '(^|/)(editor/|ctx$|config$|interpreter$|extension$)',
  'core code does not import editor code: move what both need down a floor',
);
const webviewCode = rule('(^|/)webview/', 'host code does not import page code (webview/): shared types live in src/');
const cliCode = rule('(^|/)cli/', 'nothing imports the CLI');
const capabilities = ['discovery', 'scoring', 'previews', 'sampling', 'training'];
const above = (floor) => {
  const order = { shared: 0, discovery: 1, scoring: 2, previews: 3, sampling: 3, training: 3 };
  const higher = capabilities.filter((c) => order[c] > order[floor] || (order[c] === order[floor] && c !== floor));
  return higher.length
    ? [
        rule(
          `(^|/)(${higher.join('|')})/`,
          `${floor} sits below ${higher.join(', ')}: it cannot import them (imports run shared → discovery → scoring → previews / sampling / training)`,
        ),
      ]
    : [];
};
const restrict = (...patterns) => ['error', { paths: [noVscode], patterns }];

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'out/**',
      'node_modules/**',
      '.tools/**',
      '.venv*/**',
      'test/fixtures/**',
      'examples/**',
      'test-results/**',
      'bench-results/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      '@typescript-eslint/no-explicit-any': 'off',
      'no-control-regex': 'off',
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
  {
    files: ['src/shared/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict(
        editorCode,
        webviewCode,
        cliCode,
        rule('(^|/)(discovery|scoring|previews|sampling|training)/', 'the shared floor imports no capability'),
      ),
    },
  },
  ...['discovery', 'previews', 'sampling', 'training'].map((c) => ({
    files: [`src/${c}/core/**/*.ts`],
    rules: { 'no-restricted-imports': restrict(editorCode, webviewCode, cliCode, ...above(c)) },
  })),
  { files: ['src/scoring/**/*.ts'], rules: { 'no-restricted-imports': restrict(editorCode, webviewCode, cliCode, ...above('scoring')) } },
  {
    files: ['src/*/editor/**/*.ts', 'src/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [webviewCode, cliCode] }] },
  },
  {
    files: ['webview/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict(
        rule(
          '(^|/)src/(?!shared/|training/core/(dashboardProtocol|events|runFold)$|previews/core/rewardPreviewProtocol$|scoring/advantages$)',
          'a page imports only the shared floor and the protocols it speaks',
        ),
      ),
    },
  },
  {
    files: ['**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: globals.node },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  // Scripts and tests run in Node; the webview and e2e tests also run functions inside the page.
  { files: ['**/*.mjs'], languageOptions: { globals: { ...globals.node, ...globals.browser } } },
);
