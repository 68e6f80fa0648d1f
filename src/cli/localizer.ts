import * as l10n from '@vscode/l10n';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Localizer } from '../shared/vocabulary';

/**
 * The CLI reads the same translation bundles as the extension (`l10n/bundle.l10n.<lang>.json`),
 * choosing the language from LC_ALL / LC_MESSAGES / LANG as command-line tools do.
 */
export function cliLocalizer(env: NodeJS.ProcessEnv = process.env): Localizer {
  const locale = env.LC_ALL || env.LC_MESSAGES || env.LANG || '';
  const language = locale.split(/[_.@-]/)[0].toLowerCase();
  if (language && language !== 'en' && language !== 'c' && language !== 'posix') {
    const bundle = path.join(__dirname, '..', 'l10n', `bundle.l10n.${language}.json`);
    if (fs.existsSync(bundle)) l10n.config({ fsPath: bundle });
  }
  return { t: (message, ...args) => l10n.t(message, ...args) };
}
