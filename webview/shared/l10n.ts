/**
 * The panel's strings, translated with the bundle the host sends (`vscode.l10n.bundle`); the
 * English text is the key, as with `vscode.l10n.t` in the extension.
 */
let bundle: Record<string, string> = {};

export function setBundle(strings: Record<string, string> | undefined): void {
  bundle = strings ?? {};
}

export const l10n = {
  t(message: string, ...args: Array<string | number>): string {
    return (bundle[message] ?? message).replace(/\{(\d+)\}/g, (match, i) => (i < args.length ? String(args[Number(i)]) : match));
  },
};
