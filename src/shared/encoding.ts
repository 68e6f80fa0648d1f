import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Text files as Python, `datasets` and TRL read them: UTF-8, a byte order mark ignored. A file in
 * another encoding is not decoded into U+FFFD noise: it is an error that says which encoding it
 * looks like and how to convert it.
 */

/** Legacy encodings people's Japanese and Chinese files come in, in the order they are tried. */
const LEGACY = ['shift_jis', 'euc-jp', 'gbk', 'big5', 'euc-kr'] as const;
const LABELS: Record<string, string> = { shift_jis: 'Shift_JIS', 'euc-jp': 'EUC-JP', gbk: 'GBK', big5: 'Big5', 'euc-kr': 'EUC-KR' };

export class NotUtf8Error extends Error {
  constructor(
    readonly file: string,
    /** The legacy encoding the bytes decode as, when one does. */
    readonly guess: string | undefined,
    /** The encoding name `iconv` knows it by. */
    readonly iconvName: string | undefined,
  ) {
    super(
      `${path.basename(file)} is not UTF-8${guess ? ` (looks like ${guess})` : ''}: convert it to UTF-8` +
        (iconvName ? ` (iconv -f ${iconvName} -t UTF-8 '${path.basename(file)}' > converted${path.extname(file)})` : '') +
        ', which is what datasets, TRL and GRPO Studio read',
    );
  }
}

/** The legacy encoding that decodes `bytes` without error, if one does (a guess, not a proof). */
export function guessLegacyEncoding(bytes: Uint8Array): string | undefined {
  for (const encoding of LEGACY) {
    try {
      new TextDecoder(encoding, { fatal: true }).decode(bytes);
      return encoding;
    } catch {
      // Not this one.
    }
  }
  return undefined;
}

/**
 * `bytes` as UTF-8 without a byte order mark; throws NotUtf8Error when they are not UTF-8.
 * `partial`: the bytes are a file's head, and may end inside a character.
 */
export function decodeUtf8(bytes: Uint8Array, file: string, { partial = false } = {}): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes, { stream: partial });
  } catch {
    const guess = guessLegacyEncoding(bytes);
    throw new NotUtf8Error(file, guess && LABELS[guess], guess?.toUpperCase());
  }
}

/** A whole text file as UTF-8 (see decodeUtf8). */
export function readUtf8File(file: string): string {
  return decodeUtf8(fs.readFileSync(file), file);
}
