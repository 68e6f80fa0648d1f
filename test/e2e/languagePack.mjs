// A tiny VS Code language pack, packaged with the project's own @vscode/vsce, so that code-server
// started with `--locale ja` really runs in Japanese: without an installed pack for the locale, VS Code
// falls back to English and hands extensions `vscode.env.language === 'en'`. VS Code's server reads
// the installed packs from `languagepacks.json` in its user data folder, which only a running
// server updates; `registerLanguagePack` writes it, in the server's own format, before the start. The pack translates one
// workbench string; everything else Japanese on screen is GRPO Studio's own package.nls.ja.json and
// l10n/bundle.l10n.ja.json, which is what the scenarios check.

import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { exec, REPO_ROOT } from '../../scripts/setup-code-server.mjs';

const NAMES = { ja: { languageName: 'Japanese', localizedLanguageName: '日本語' } };

export async function buildLanguagePackVsix(locale) {
  const names = NAMES[locale];
  if (!names) throw new Error(`no test language pack for ${locale}`);
  const dir = mkdtempSync(path.join(os.tmpdir(), `grpo-language-pack-${locale}-`));
  const manifest = {
    name: `test-language-pack-${locale}`,
    displayName: `Test language pack (${names.localizedLanguageName})`,
    description: `A one-string ${names.languageName} language pack for GRPO Studio's end-to-end tests`,
    version: '1.0.0',
    publisher: 'grpo-studio-tests',
    license: 'Apache-2.0',
    engines: { vscode: '^1.95.0' },
    categories: ['Language Packs'],
    contributes: {
      localizations: [{ languageId: locale, ...names, translations: [{ id: 'vscode', path: './translations/main.i18n.json' }] }],
    },
  };
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify(manifest, null, 2));
  writeFileSync(path.join(dir, 'LICENSE'), 'Apache-2.0\n');
  writeFileSync(path.join(dir, 'README.md'), `# ${manifest.displayName}\n`);
  mkdirSync(path.join(dir, 'translations'));
  writeFileSync(
    path.join(dir, 'translations', 'main.i18n.json'),
    JSON.stringify({
      version: '1.0.0',
      contents: { 'vs/workbench/contrib/files/browser/explorerViewlet': { explore: 'エクスプローラー' } },
    }),
  );
  const out = path.join(dir, `test-language-pack-${locale}.vsix`);
  const vsce = path.join(REPO_ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');
  const r = await exec(process.execPath, [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '-o', out], { cwd: dir });
  if (r.code !== 0) throw new Error(`vsce package (language pack) failed:\n${r.stdout}${r.stderr}`);
  return out;
}

/** Writes `<userDataDir>/languagepacks.json` for the test pack installed in `extensionsDir`. */
export function registerLanguagePack({ userDataDir, extensionsDir }, locale) {
  const id = `grpo-studio-tests.test-language-pack-${locale}`;
  const folder = readdirSync(extensionsDir).find((name) => name.startsWith(`${id}-`));
  if (!folder) throw new Error(`the ${locale} test language pack is not installed in ${extensionsDir}`);
  const manifest = JSON.parse(readFileSync(path.join(extensionsDir, folder, 'package.json'), 'utf8'));
  const [localization] = manifest.contributes.localizations;
  const packs = {
    [locale]: {
      hash: createHash('md5').update(id).update(manifest.version).digest('hex'),
      extensions: [{ extensionIdentifier: { id }, version: manifest.version }],
      translations: Object.fromEntries(localization.translations.map((t) => [t.id, path.join(extensionsDir, folder, t.path)])),
      label: localization.localizedLanguageName,
    },
  };
  writeFileSync(path.join(userDataDir, 'languagepacks.json'), JSON.stringify(packs));
}
