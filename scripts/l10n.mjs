// Collects every `l10n.t('…')` message of src/ and webview/ into l10n/bundle.l10n.json and checks that each
// translation bundle (l10n/bundle.l10n.<lang>.json) covers them. `--check` only checks.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const CALL = /l10n\.t\(\s*('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")/g;

function sources(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

export function collectMessages() {
  const messages = new Set();
  for (const file of [...sources(join(root, 'src')), ...sources(join(root, 'webview'))]) {
    for (const match of readFileSync(file, 'utf8').matchAll(CALL)) messages.add(new Function(`return ${match[1]}`)());
  }
  return [...messages].sort();
}

export function missingTranslations(messages = collectMessages()) {
  const missing = {};
  for (const name of readdirSync(join(root, 'l10n'))) {
    const lang = /^bundle\.l10n\.(.+)\.json$/.exec(name)?.[1];
    if (!lang) continue;
    const bundle = JSON.parse(readFileSync(join(root, 'l10n', name), 'utf8'));
    const absent = messages.filter((m) => !(m in bundle));
    if (absent.length) missing[lang] = absent;
  }
  return missing;
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const messages = collectMessages();
  if (!process.argv.includes('--check')) {
    writeFileSync(join(root, 'l10n', 'bundle.l10n.json'), `${JSON.stringify(Object.fromEntries(messages.map((m) => [m, m])), null, 2)}\n`);
  }
  const missing = missingTranslations(messages);
  for (const [lang, list] of Object.entries(missing)) {
    console.error(`l10n: ${list.length} message(s) missing in bundle.l10n.${lang}.json:\n  ${list.join('\n  ')}`);
  }
  process.exitCode = Object.keys(missing).length ? 1 : 0;
}
