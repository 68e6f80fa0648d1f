import * as path from 'node:path';
import { Edit, Language, Parser, type Point, type Tree } from 'web-tree-sitter';

let loading: Promise<Parser> | undefined;

/**
 * One tree-sitter parser for Python, loaded once. `wasmDir` holds `web-tree-sitter.wasm` and
 * `tree-sitter-python.wasm` (the build copies both next to the bundles).
 */
export function loadPythonParser(wasmDir: string): Promise<Parser> {
  loading ??= (async () => {
    await Parser.init({ locateFile: (file: string) => path.join(wasmDir, file) });
    const language = await Language.load(path.join(wasmDir, 'tree-sitter-python.wasm'));
    const parser = new Parser();
    parser.setLanguage(language);
    return parser;
  })();
  return loading;
}

export function parsePython(parser: Parser, text: string): Tree {
  const tree = parser.parse(text);
  if (!tree) throw new Error('tree-sitter returned no tree');
  return tree;
}

/** The one edit that turns `before` into `after`: what lies between their common prefix and suffix. */
export function editBetween(before: string, after: string): Edit {
  const shorter = Math.min(before.length, after.length);
  // Found by halving, each step one string comparison (a memcmp), not a loop over characters.
  let start = longest(shorter, (n) => before.slice(0, n) === after.slice(0, n));
  const suffix = longest(shorter - start, (n) => before.slice(before.length - n) === after.slice(after.length - n));
  let oldEnd = before.length - suffix;
  let newEnd = after.length - suffix;
  // Never split a surrogate pair: the parser reads code points.
  if (start > 0 && isLowSurrogate(before.charCodeAt(start))) start--;
  if (oldEnd < before.length && isLowSurrogate(before.charCodeAt(oldEnd))) {
    oldEnd++;
    newEnd++;
  }
  const startPosition = pointAt(before, start);
  return new Edit({
    startIndex: start,
    oldEndIndex: oldEnd,
    newEndIndex: newEnd,
    startPosition,
    oldEndPosition: pointAfter(startPosition, before, start, oldEnd),
    newEndPosition: pointAfter(startPosition, after, start, newEnd),
  });
}

/** The largest n ≤ max for which `holds(n)`, where `holds` is true up to some n and false after. */
function longest(max: number, holds: (n: number) => boolean): number {
  let low = 0;
  let high = max;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (holds(middle)) low = middle;
    else high = middle - 1;
  }
  return low;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** Row and column (UTF-16 code units, as web-tree-sitter counts them) of an index into `text`. */
export function pointAt(text: string, index: number): Point {
  return pointAfter({ row: 0, column: 0 }, text, 0, index);
}

/** The point of `index` in `text`, counted on from `from`, the point of index `fromIndex`. */
function pointAfter(from: Point, text: string, fromIndex: number, index: number): Point {
  let { row, column } = from;
  let lineStart = fromIndex - column;
  for (let i = text.indexOf('\n', fromIndex); i !== -1 && i < index; i = text.indexOf('\n', i + 1)) {
    row++;
    lineStart = i + 1;
  }
  column = index - lineStart;
  return { row, column };
}
