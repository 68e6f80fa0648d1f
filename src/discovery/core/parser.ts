import * as path from 'node:path';
import { Language, Parser, type Tree } from 'web-tree-sitter';

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
